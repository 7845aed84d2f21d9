package replica

import "github.com/stratalog/strata/segment"

func parseHeader(b []byte) (segment.BatchHeader, error) { return segment.ParseBatchHeader(b, 1<<30) }
