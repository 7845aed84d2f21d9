// Command ratios summarizes the output of the comparison benchmarks (go test
// -bench output, any -count) as two Markdown tables: the median of each
// workload's figure per library, and the ratios strata/peer.
//
//	go run ./cmd/ratios results.txt
//
// The figure of a workload is its records/s where reported (higher is better),
// else its time per op (lower is better). A ratio is always "how many times
// better strata is": strata/peer for records/s, peer/strata for time per op; so
// above 1 means strata is ahead. AppendConcurrent also gets each library's
// writers=64 / writers=1 (how far 64 writers share fsyncs).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// sample is the figures of one benchmark line.
type sample struct {
	workload, lib string
	metrics       map[string]float64
}

// procsSuffix is the -GOMAXPROCS suffix of benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines: name, iterations, then value-unit pairs.
func parse(r io.Reader) ([]sample, error) {
	var samples []sample
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		var lib string
		var rest []string
		for _, part := range strings.Split(name, "/") {
			if v, ok := strings.CutPrefix(part, "lib="); ok {
				lib = v
				continue
			}
			rest = append(rest, part)
		}
		if lib == "" {
			continue
		}
		s := sample{workload: strings.Join(rest, "/"), lib: lib, metrics: map[string]float64{}}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", scanner.Text(), err)
			}
			s.metrics[fields[i+1]] = v
		}
		samples = append(samples, s)
	}
	return samples, scanner.Err()
}

func median(values []float64) float64 {
	v := slices.Clone(values)
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// figure is a workload's medians per library, in one unit.
type figure struct {
	unit   string // "records/s" or "ns/op"
	median map[string]float64
	count  map[string]int
}

// better returns how many times better a is than b in f's unit.
func (f figure) better(a, b float64) float64 {
	if f.unit == "records/s" {
		return a / b
	}
	return b / a
}

func format(v float64, unit string) string {
	if unit == "ns/op" {
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1f µs", v/1e3)
		}
		return fmt.Sprintf("%.0f ns", v)
	}
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM/s", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk/s", v/1e3)
	}
	return fmt.Sprintf("%.0f/s", v)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ratios results.txt")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	samples, err := parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	var workloads, libs []string
	values := map[string]map[string][]float64{} // workload → lib → values
	units := map[string]string{}
	for _, s := range samples {
		unit := "records/s"
		v, ok := s.metrics[unit]
		if !ok {
			unit = "ns/op"
			v = s.metrics[unit]
		}
		if values[s.workload] == nil {
			values[s.workload] = map[string][]float64{}
			workloads = append(workloads, s.workload)
			units[s.workload] = unit
		}
		if !slices.Contains(libs, s.lib) {
			libs = append(libs, s.lib)
		}
		values[s.workload][s.lib] = append(values[s.workload][s.lib], v)
	}
	// The libraries in the order of the tables: strata, its peers, the baseline.
	order := []string{"strata", "strata-log", "strata-nocrc", "tidwall-wal", "raft-wal", "nats-jetstream", "kfake", "file"}
	rank := func(lib string) int {
		if i := slices.Index(order, lib); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(libs, func(a, b string) int { return rank(a) - rank(b) })

	figures := map[string]figure{}
	for _, w := range workloads {
		fig := figure{unit: units[w], median: map[string]float64{}, count: map[string]int{}}
		for lib, vs := range values[w] {
			fig.median[lib], fig.count[lib] = median(vs), len(vs)
		}
		figures[w] = fig
	}

	fmt.Println("Medians (records/s, or time per op where no records/s; n = runs):")
	fmt.Println()
	fmt.Printf("| workload |")
	for _, lib := range libs {
		fmt.Printf(" %s |", lib)
	}
	fmt.Printf("\n|---|")
	for range libs {
		fmt.Printf("---|")
	}
	fmt.Println()
	for _, w := range workloads {
		fig := figures[w]
		fmt.Printf("| %s |", w)
		for _, lib := range libs {
			if n, ok := fig.count[lib]; ok {
				fmt.Printf(" %s (n=%d) |", format(fig.median[lib], fig.unit), n)
			} else {
				fmt.Printf(" — |")
			}
		}
		fmt.Println()
	}

	fmt.Println()
	fmt.Println("Ratios strata/peer (times better; > 1: strata ahead; records/s ratio, or inverse time ratio):")
	fmt.Println()
	var peers []string
	for _, lib := range libs {
		if !strings.HasPrefix(lib, "strata") {
			peers = append(peers, lib)
		}
	}
	fmt.Printf("| workload |")
	for _, lib := range peers {
		fmt.Printf(" vs %s |", lib)
	}
	fmt.Printf("\n|---|")
	for range peers {
		fmt.Printf("---|")
	}
	fmt.Println()
	for _, w := range workloads {
		fig := figures[w]
		// strata's row, then one per variant measured on this workload (strata-nocrc).
		for _, base := range []string{"strata", "strata-nocrc"} {
			strata, ok := fig.median[base]
			if !ok {
				continue
			}
			label := w
			if base != "strata" {
				label += " (" + base + ")"
			}
			fmt.Printf("| %s |", label)
			for _, lib := range peers {
				if peer, ok := fig.median[lib]; ok && peer > 0 && strata > 0 {
					fmt.Printf(" %.2f× |", fig.better(strata, peer))
				} else {
					fmt.Printf(" — |")
				}
			}
			fmt.Println()
		}
	}

	one, many := figures["AppendConcurrent/writers=1"], figures["AppendConcurrent/writers=64"]
	if one.median != nil && many.median != nil {
		fmt.Println()
		fmt.Println("Durable single-record appends, 64 writers / 1 writer, per library:")
		fmt.Println()
		fmt.Println("| lib | writers=1 | writers=64 | 64/1 |")
		fmt.Println("|---|---|---|---|")
		for _, lib := range libs {
			a, okA := one.median[lib]
			b, okB := many.median[lib]
			if okA && okB && a > 0 {
				fmt.Printf("| %s | %s | %s | %.1f× |\n", lib, format(a, one.unit), format(b, many.unit), b/a)
			}
		}
	}
}
