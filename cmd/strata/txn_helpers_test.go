package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stratalog/strata/partition"
)

// withPartition opens partition dir/t-0 of a closed store on its own, runs write
// on it and closes it: the CLI tests' way to write transactions, which no command
// writes.
func withPartition(t *testing.T, dir string, write func(p *partition.Partition)) {
	t.Helper()
	p, err := partition.Open(filepath.Join(dir, "t-0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	write(p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// appendTxn appends values as one transactional batch of producer id.
func appendTxn(t *testing.T, p *partition.Partition, id int64, values ...string) {
	t.Helper()
	records := make([]partition.Record, len(values))
	for i, v := range values {
		records[i] = partition.Record{Value: []byte(v), Timestamp: 1_700_000_000_000}
	}
	if _, err := p.AppendWith(context.Background(), records, &partition.AppendOptions{Producer: &partition.Producer{ID: id, Transactional: true}}); err != nil {
		t.Fatal(err)
	}
}

// endTxn writes the marker that ends producer id's transaction.
func endTxn(t *testing.T, p *partition.Partition, id int64, typ partition.MarkerType) {
	t.Helper()
	if _, err := p.AppendTxnMarker(context.Background(), partition.TxnMarker{ProducerID: id, CoordinatorEpoch: 5, Type: typ}); err != nil {
		t.Fatal(err)
	}
}
