// Package compare runs strata's benchmark workloads, in one run, on strata and on
// the libraries a Go user would pick instead: github.com/tidwall/wal,
// github.com/hashicorp/raft-wal, NATS JetStream's file store (an embedded
// nats-server reached through an in-process connection) and franz-go's kfake (a
// fake Kafka cluster, with its on-disk persistence turned on).
//
// It is a module of its own (bench/compare/go.mod) so that none of these
// dependencies enters strata's core module. It has no API; run
//
//	cd bench/compare && go test -bench . -benchmem -run '^$' .
//
// (go test . alone runs TestAdapters, which checks that every adapter reads back
// what it wrote), or ./run.sh, which repeats the run and summarizes it with
// benchstat and with the ratios strata/peer (see ../README.md, "Comparison with
// peers").
//
// The libraries include strata itself twice: lib=strata is package partition,
// lib=strata-log is package log (Store.Produce, Consumer.Poll).
//
// Every workload is a benchmark whose sub-benchmarks are named lib=<name>/...,
// the rest of the name being the same for every library, so that
//
//	benchstat -col /lib results.txt
//
// puts the libraries side by side. A library that cannot run a workload with the
// same meaning skips it, saying why (go test -v shows the reason; README.md lists
// them). MB/s counts record values only (100 B per record): each library frames
// records differently, so the bytes written differ.
package compare
