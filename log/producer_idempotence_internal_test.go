package log

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/partition"
	"github.com/stratalog/strata/vfs"
)

// TestIdempotentPartitionSequence drives a partition's numbering through each
// answer an append can get, step by step: what identity each attempt is written
// with and what the caller is told.
func TestIdempotentPartitionSequence(t *testing.T) {
	type step struct {
		records  int
		answers  []error // the appends' answers, one per attempt
		want     []partition.Producer
		wantBase int64
		wantErr  error
	}
	duplicate := &partition.DuplicateSequenceError{BaseOffset: 40, LastOffset: 42}
	failure := errors.New("disk on fire")
	tests := []struct {
		name  string
		steps []step
	}{
		{"consecutive batches", []step{
			{records: 3, answers: []error{nil}, want: []partition.Producer{{ID: 7, BaseSequence: 0}}, wantBase: 100},
			{records: 2, answers: []error{nil}, want: []partition.Producer{{ID: 7, BaseSequence: 3}}, wantBase: 100},
		}},
		{"a duplicate is success with the original offsets", []step{
			{records: 3, answers: []error{duplicate}, want: []partition.Producer{{ID: 7}}, wantBase: 40},
			{records: 1, answers: []error{nil}, want: []partition.Producer{{ID: 7, BaseSequence: 3}}, wantBase: 100},
		}},
		{"a batch too large uses no sequence", []step{
			{records: 3, answers: []error{ErrRecordTooLarge}, want: []partition.Producer{{ID: 7}}, wantErr: ErrRecordTooLarge},
			{records: 1, answers: []error{nil}, want: []partition.Producer{{ID: 7}}, wantBase: 100},
		}},
		{"a failure bumps the epoch and starts over", []step{
			{records: 3, answers: []error{nil}, want: []partition.Producer{{ID: 7}}, wantBase: 100},
			{records: 2, answers: []error{failure}, want: []partition.Producer{{ID: 7, BaseSequence: 3}}, wantErr: failure},
			{records: 1, answers: []error{nil}, want: []partition.Producer{{ID: 7, Epoch: 1}}, wantBase: 100},
		}},
		{"out of order is retried once under the next epoch", []step{
			{records: 3, answers: []error{nil}, want: []partition.Producer{{ID: 7}}, wantBase: 100},
			{records: 2, answers: []error{partition.ErrOutOfOrderSequence, nil},
				want: []partition.Producer{{ID: 7, BaseSequence: 3}, {ID: 7, Epoch: 1}}, wantBase: 100},
			{records: 1, answers: []error{nil}, want: []partition.Producer{{ID: 7, Epoch: 1, BaseSequence: 2}}, wantBase: 100},
		}},
		{"a stale epoch twice fails", []step{
			{records: 1, answers: []error{partition.ErrInvalidProducerEpoch, partition.ErrInvalidProducerEpoch},
				want: []partition.Producer{{ID: 7}, {ID: 7, Epoch: 1}}, wantErr: partition.ErrInvalidProducerEpoch},
			{records: 1, answers: []error{nil}, want: []partition.Producer{{ID: 7, Epoch: 2}}, wantBase: 100},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			producer := &idempotence{}
			producer.mu.identity = producerIdentity{id: 7}
			q := &partitionSequence{producer: producer, identity: producer.current()}
			for i, st := range tt.steps {
				var got []partition.Producer
				fn := func(_ context.Context, records []partition.Record, pr *partition.Producer) (int64, error) {
					require.Len(t, records, st.records)
					got = append(got, *pr)
					err := st.answers[len(got)-1]
					if err != nil {
						return 0, err
					}
					return 100, nil
				}
				base, err := q.append(context.Background(), make([]partition.Record, st.records), fn)
				require.Equal(t, st.want, got, "step %d", i)
				if st.wantErr != nil {
					require.ErrorIs(t, err, st.wantErr, "step %d", i)
					continue
				}
				require.NoError(t, err, "step %d", i)
				require.Equal(t, st.wantBase, base, "step %d", i)
			}
		})
	}
}

// TestIdempotentLastEpochTakesANewProducerID: a bump at the last epoch moves to a
// new producer id at epoch 0, as Kafka's producer does.
func TestIdempotentLastEpochTakesANewProducerID(t *testing.T) {
	s, err := Open("/data", &Options{FS: vfs.NewMem(), RetentionCheckInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	producer, err := newIdempotence(s)
	require.NoError(t, err)
	first := producer.current()
	producer.mu.identity.epoch = math.MaxInt16
	producer.bump(producer.current())
	next := producer.current()
	require.NotEqual(t, first.id, next.id)
	require.Equal(t, int16(0), next.epoch)
	producer.bump(first) // a stale failure changes nothing
	require.Equal(t, next, producer.current())
}

func TestIdempotentNextSequenceWraps(t *testing.T) {
	require.Equal(t, int32(5), nextSequence(0, 5))
	require.Equal(t, int32(0), nextSequence(math.MaxInt32, 1))
	require.Equal(t, int32(2), nextSequence(math.MaxInt32-1, 4))
}
