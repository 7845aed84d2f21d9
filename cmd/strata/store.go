package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/stratalog/strata/log"
)

// metadataFile is the store's topic list (FORMAT.md, "Store directory"): its
// presence is how the CLI tells a store from any other directory.
const metadataFile = "topics.json"

// openMode says whether a command may create a store.
type openMode int

const (
	mustExist openMode = iota // every command but topics create
	mayCreate                 // topics create: a new directory becomes a store
)

// requireStore returns an error unless dir holds a store (its topics.json).
func requireStore(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, metadataFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no strata store in %s (no %s): set --dir or $STRATA_DIR, or create a topic first", dir, metadataFile)
		}
		return fmt.Errorf("open store %s: %w", dir, err)
	}
	return nil
}

// lockedError says that another process holds the store in dir.
func lockedError(dir string) error {
	return fmt.Errorf("%s is locked: another process (an application or another strata command) has this store open; stop it first, or read its segment files with 'strata dump'", dir)
}

// openStore opens the store in dir. Commands other than topics create refuse a
// directory that is not a store yet, so that a mistyped --dir does not leave an
// empty store behind. adjust, if not nil, changes the options before Open.
//
// A directory held by another process fails at once with one clear line: log.Open
// never waits for the lock.
func (e *cli) openStore(dir string, mode openMode, adjust func(*log.Options)) (*log.Store, error) {
	if mode == mustExist {
		if err := requireStore(dir); err != nil {
			return nil, err
		}
	}
	opts := &log.Options{
		// Warnings (recovery after a crash, leftovers removed) are worth seeing; the
		// informational lines are not.
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{
			Level:       slog.LevelWarn,
			ReplaceAttr: dropTime,
		})),
		// A CLI session is short; the application that owns the data applies retention.
		RetentionCheckInterval: -1,
	}
	if adjust != nil {
		adjust(opts)
	}
	store, err := log.Open(dir, opts)
	if errors.Is(err, log.ErrLocked) {
		return nil, lockedError(dir)
	}
	if err != nil {
		return nil, err
	}
	return store, nil
}

// dropTime removes the time from log lines written to the terminal.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// closeStore closes store, keeping the first error.
func closeStore(store *log.Store, err *error) {
	if cerr := store.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close store: %w", cerr)
	}
}

// describe returns the description of topic, with a plain message for an unknown one.
func describe(store *log.Store, topic string) (log.TopicDescription, error) {
	d, err := store.DescribeTopic(topic)
	if errors.Is(err, log.ErrUnknownTopic) {
		return d, fmt.Errorf("unknown topic %q", topic)
	}
	return d, err
}

// interrupted reports whether err is the command's context ending.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
