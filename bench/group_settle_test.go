package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratalog/strata/log"
)

// BenchmarkGroupSettle measures how long a consumer group takes to settle with the
// default heartbeat interval (3 s, Kafka's): from the moment its members are
// created (or a member joins, or one leaves with Close) until every partition of a
// 6-partition topic is owned by exactly one member, each owning its fair share.
// Members of a Kafka group learn of a rebalance at their next heartbeat, so each
// step of a rebalance costs up to a heartbeat interval; in one process the
// coordinator can tell them at once. ms/settle is the figure.
//
//   - members=3/event=start: three members created one after the other;
//   - members=3/event=join: a fourth member joins a settled group of three;
//   - members=3/event=leave: one of three settled members leaves.
func BenchmarkGroupSettle(b *testing.B) {
	const partitions = 6
	s, err := log.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.CreateTopic(context.Background(), "t", log.TopicConfig{Partitions: partitions}); err != nil {
		b.Fatal(err)
	}
	round := 0
	start := func(b *testing.B, group string, n int) []*log.GroupConsumer {
		var members []*log.GroupConsumer
		for range n {
			g, err := s.NewGroupConsumer(log.GroupConsumerOptions{Group: group, Topics: []string{"t"}, DisableAutoCommit: true})
			if err != nil {
				b.Fatal(err)
			}
			members = append(members, g)
		}
		return members
	}
	for _, event := range []string{"start", "join", "leave"} {
		b.Run("members=3/event="+event, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				round++
				group := fmt.Sprint("settle-", round)
				var members []*log.GroupConsumer
				b.StopTimer()
				if event != "start" {
					members = start(b, group, 3)
					waitGroupSettled(b, members, partitions)
				}
				began := time.Now()
				b.StartTimer()
				switch event {
				case "start":
					members = start(b, group, 3)
				case "join":
					members = append(members, start(b, group, 1)...)
				case "leave":
					if err := members[0].Close(); err != nil {
						b.Fatal(err)
					}
					members = members[1:]
				}
				waitGroupSettled(b, members, partitions)
				b.StopTimer()
				total += time.Since(began)
				for _, g := range members {
					g.Close()
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/settle")
			b.ReportMetric(0, "ns/op") // the timer includes the untimed set-up's goroutines: ms/settle is the figure
		})
	}
}

// waitGroupSettled polls until every one of partitions is owned by exactly one of
// members, each owning at least its fair share.
func waitGroupSettled(b *testing.B, members []*log.GroupConsumer, partitions int) {
	deadline := time.Now().Add(time.Minute)
	for {
		owned := map[log.TopicPartition]int{}
		fair := true
		for _, g := range members {
			tps := g.Assignment()
			fair = fair && len(tps) >= partitions/len(members)
			for _, tp := range tps {
				owned[tp]++
			}
		}
		done := fair && len(owned) == partitions
		for _, n := range owned {
			done = done && n == 1
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("the group did not settle in a minute")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
