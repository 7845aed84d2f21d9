package index

// DefaultMaxBytes is the default Options.MaxBytes: 10 MiB, Kafka's
// segment.index.bytes.
const DefaultMaxBytes = 10 << 20

// Options configures an index. The zero value is valid and nil means defaults.
type Options struct {
	// MaxBytes is the greatest size of the index file in bytes. An index holds at most
	// MaxBytes/entry-size entries (1,310,720 offset or 873,813 time entries by
	// default); Append past that returns ErrIndexFull, and a file bigger than MaxBytes
	// is refused as corrupt on open. Loading never reads or allocates for more than
	// this many bytes of entries. Zero means DefaultMaxBytes; a value below one entry
	// (8 bytes for .index, 12 for .timeindex) or negative is ErrInvalidArgument.
	MaxBytes int
}

// maxEntries returns how many entries of entrySize fit in the configured size, after
// defaulting and validating opts.
func (opts *Options) maxEntries(entrySize int) (int, error) {
	maxBytes := DefaultMaxBytes
	if opts != nil && opts.MaxBytes != 0 {
		maxBytes = opts.MaxBytes
	}
	if maxBytes < entrySize {
		return 0, errorf("strata/index: Options.MaxBytes %d is smaller than one %d-byte entry: %w",
			maxBytes, entrySize, ErrInvalidArgument)
	}
	return maxBytes / entrySize, nil
}
