package partition

// offsetMap is the cleaner's map from each key of the dirty part of the log to the
// offset of its latest record there (Kafka's SkimpyOffsetMap, keyed by the whole key
// instead of a digest, so that two keys never collide). Records whose key maps to a
// later offset are superseded.
//
// Looking up or updating a key already present allocates nothing; a new key costs
// one allocation (its string). size estimates the memory held, for the cleaner's
// budget.
type offsetMap struct {
	slots   map[string]int32 // key → index in offsets
	offsets []int64
	bytes   int64
}

// offsetMapEntryBytes estimates what one key costs besides its bytes: the map's slot
// (string header, int32 value, control byte, load factor) and the offsets entry.
const offsetMapEntryBytes = 48

func newOffsetMap() *offsetMap {
	return &offsetMap{slots: map[string]int32{}}
}

// put records offset as the latest offset of key. Offsets are put in rising order.
func (m *offsetMap) put(key []byte, offset int64) {
	if slot, ok := m.slots[string(key)]; ok {
		m.offsets[slot] = offset
		return
	}
	m.slots[string(key)] = int32(len(m.offsets))
	m.offsets = append(m.offsets, offset)
	m.bytes += int64(len(key)) + offsetMapEntryBytes
}

// latest returns the offset of key's latest record in the map, and whether there is
// one.
func (m *offsetMap) latest(key []byte) (int64, bool) {
	slot, ok := m.slots[string(key)]
	if !ok {
		return 0, false
	}
	return m.offsets[slot], true
}

// size returns the estimated bytes the map holds.
func (m *offsetMap) size() int64 { return m.bytes }

// len returns the number of keys.
func (m *offsetMap) len() int { return len(m.offsets) }
