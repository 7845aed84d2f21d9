// Command replay reprocesses history: it records a day of sensor readings (with
// their own timestamps), then seeks every partition to a point in time and replays
// from there, as a service does after a bug fix to recompute what it got wrong.
//
//	go run ./examples/replay                         # replay from 18:00
//	go run ./examples/replay --from 2026-11-20T06:00:00Z
//	go run ./examples/replay --dir data              # keep the data in ./data
//
// Seeking by time uses each segment's time index, as Kafka's offsetsForTimes does:
// the first record whose timestamp is at or after the time.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stratalog/strata/log"
)

// day is the day whose readings the example records.
var day = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	from := flag.String("from", day.Add(18*time.Hour).Format(time.RFC3339), "replay from this time (RFC 3339)")
	flag.Parse()
	at, err := time.Parse(time.RFC3339, *from)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay: --from:", err)
		os.Exit(2)
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "strata-replay-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "replay:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), *dir, at, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

// run records the day's readings (once: a second run on the same directory reuses
// them) and replays everything from the time from, writing a summary to out.
func run(ctx context.Context, dir string, from time.Time, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := log.Open(dir, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.DescribeTopic("readings"); err != nil {
		if err := record(ctx, store); err != nil {
			return err
		}
	}
	desc, err := store.DescribeTopic("readings")
	if err != nil {
		return err
	}

	// Seek every partition to the first reading at or after from.
	consumer, err := store.NewConsumer(log.ConsumerOptions{})
	if err != nil {
		return err
	}
	defer consumer.Close()
	var tps []log.TopicPartition
	for _, p := range desc.Partitions {
		tps = append(tps, log.TopicPartition{Topic: "readings", Partition: p.Partition})
	}
	if err := consumer.Assign(tps...); err != nil { // the whole assignment, as Kafka's assign
		return err
	}
	remaining := int64(0)
	for i, p := range desc.Partitions {
		tp := tps[i]
		if err := consumer.SeekToTime(tp, from); err != nil {
			return err
		}
		position, err := consumer.Position(tp)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "partition %d: %s is offset %d of [%d, %d)\n", p.Partition, from.Format(time.Kitchen), position, p.StartOffset, p.EndOffset)
		remaining += p.EndOffset - position
	}

	// Replay: recompute the hourly maximum of every sensor from from on.
	maxima := map[string]map[int]string{}
	var first, last time.Time
	for replayed := int64(0); replayed < remaining; {
		records, err := consumer.Poll(ctx)
		if err != nil {
			return err
		}
		for _, r := range records {
			if r.Timestamp.Before(from) {
				return fmt.Errorf("replayed a reading of %s, before %s", r.Timestamp, from)
			}
			if first.IsZero() || r.Timestamp.Before(first) {
				first = r.Timestamp
			}
			if r.Timestamp.After(last) {
				last = r.Timestamp
			}
			sensor, hour := string(r.Key), r.Timestamp.Hour()
			if maxima[sensor] == nil {
				maxima[sensor] = map[int]string{}
			}
			if v := string(r.Value); v > maxima[sensor][hour] {
				maxima[sensor][hour] = v
			}
			replayed++
		}
	}
	fmt.Fprintf(out, "replayed %d readings from %s to %s\n", remaining, first.Format(time.Kitchen), last.Format(time.Kitchen))
	for _, sensor := range []string{"boiler", "cellar", "roof"} {
		fmt.Fprintf(out, "%s: %d hours recomputed\n", sensor, len(maxima[sensor]))
	}
	return nil
}

// record writes one reading per sensor every minute of the day, with the reading's
// own time as the record's timestamp.
func record(ctx context.Context, store *log.Store) error {
	if err := store.CreateTopic(ctx, "readings", log.TopicConfig{Partitions: 3}); err != nil {
		return err
	}
	var records []*log.Record
	for minute := range 24 * 60 {
		at := day.Add(time.Duration(minute) * time.Minute)
		for i, sensor := range []string{"boiler", "cellar", "roof"} {
			celsius := 10 + (minute/7+i*13)%40
			records = append(records, &log.Record{
				Topic:     "readings",
				Key:       []byte(sensor), // one sensor, one partition: its readings stay in order
				Value:     fmt.Appendf(nil, "%02d.%d", celsius, minute%10),
				Timestamp: at,
			})
		}
	}
	return store.Produce(ctx, records...)
}
