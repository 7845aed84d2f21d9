package kafka

import (
	"github.com/stratalog/strata/log"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchResponse is a Fetch response that holds the store's results its record
// batches come from, until the connection has written it (writeFetchResponse)
// and released them: the batches are views of segment mappings, or are sent from
// the segment files, never copied into the response. As a kmsg.Response it
// encodes as any other (kmsg's AppendTo, the views copied), which tests use.
type fetchResponse struct {
	*kmsg.FetchResponse
	// held has one entry per partition of the response, in its order.
	held []heldBatches
}

// heldBatches are one partition's batches as the store fetched them.
type heldBatches struct {
	result log.FetchResult // zero when the partition has no batches
}

// len returns the bytes of the batches.
func (b *heldBatches) len() int { return len(b.result.Batches) }

// files returns, in the response's order, the held batches that have a file
// range to send them from (nil for the others). A range that would not name
// exactly the batches (never, as the store makes them) is not used: the
// response's sizes are the batches'.
func (r *fetchResponse) files() []*heldBatches {
	var files []*heldBatches
	for i := range r.held {
		if f := r.held[i].result.File; f != nil && f.Len() == r.held[i].len() {
			if files == nil {
				files = make([]*heldBatches, len(r.held))
			}
			files[i] = &r.held[i]
		}
	}
	return files
}

// release releases every result held; the response's batches must not be used
// after. It may be called more than once.
func (r *fetchResponse) release() {
	for i := range r.held {
		r.held[i].result.Release()
	}
	r.held = r.held[:0]
}
