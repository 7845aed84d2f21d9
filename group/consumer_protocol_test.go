package group

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The consumer protocol's bytes, as Kafka's clients write them.
func TestConsumerProtocolGolden(t *testing.T) {
	s := Subscription{Topics: []string{"b", "a"}, Owned: parts("a", 1, "a", 0, "b", 2), Generation: 5}
	require.Equal(t, unhex(t, `0002  00000002 0001 62 0001 61  ffffffff
		00000002  0001 61 00000002 00000000 00000001  0001 62 00000001 00000002  00000005`), EncodeSubscription(s))
	got, err := DecodeSubscription(EncodeSubscription(s))
	require.NoError(t, err)
	require.Equal(t, Subscription{Topics: []string{"b", "a"}, Owned: parts("a", 0, "a", 1, "b", 2), Generation: 5}, got)

	// v0 (topics, user data) and v3 (with a rack id) decode too.
	got, err = DecodeSubscription(unhex(t, `0000 00000001 0001 74 00000002 abcd`))
	require.NoError(t, err)
	require.Equal(t, Subscription{Topics: []string{"t"}, UserData: []byte{0xab, 0xcd}, Generation: -1}, got)
	got, err = DecodeSubscription(unhex(t, `0003 00000001 0001 74 ffffffff 00000000 00000004 0004 72616b31`))
	require.NoError(t, err)
	require.Equal(t, Subscription{Topics: []string{"t"}, Generation: 4}, got)

	a := MemberAssignment{Partitions: parts("t", 3, "t", 1)}
	require.Equal(t, unhex(t, `0002  00000001 0001 74 00000002 00000001 00000003  ffffffff`), EncodeAssignment(a))
	decoded, err := DecodeAssignment(EncodeAssignment(a))
	require.NoError(t, err)
	require.Equal(t, MemberAssignment{Partitions: parts("t", 1, "t", 3)}, decoded)
	decoded, err = DecodeAssignment(nil)
	require.NoError(t, err)
	require.Empty(t, decoded.Partitions)

	for _, bad := range []string{`ff`, `fffe`, `0001 7fffffff`, `0000 00000001 0005 61`} {
		_, err := DecodeSubscription(unhex(t, bad))
		require.ErrorIs(t, err, ErrInvalidArgument, bad)
		_, err = DecodeAssignment(unhex(t, bad))
		require.ErrorIs(t, err, ErrInvalidArgument, bad)
	}

	previous, generation, ok := decodeStickyUserData(encodeStickyUserData(parts("t", 2), 9))
	require.True(t, ok)
	require.Equal(t, parts("t", 2), previous)
	require.Equal(t, int32(9), generation)
}

func FuzzDecodeConsumerProtocol(f *testing.F) {
	f.Add(EncodeSubscription(Subscription{Topics: []string{"t"}, Owned: parts("t", 0), Generation: 1}))
	f.Add(EncodeAssignment(MemberAssignment{Partitions: parts("t", 0, "u", 1), UserData: []byte{1}}))
	f.Add(encodeStickyUserData(parts("t", 0), 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := DecodeSubscription(b); err == nil {
			again, err := DecodeSubscription(EncodeSubscription(s))
			require.NoError(t, err)
			require.Equal(t, s.Owned, again.Owned)
			require.Equal(t, s.Generation, again.Generation)
			require.Equal(t, len(s.Topics), len(again.Topics))
		}
		if a, err := DecodeAssignment(b); err == nil {
			again, err := DecodeAssignment(EncodeAssignment(a))
			require.NoError(t, err)
			require.Equal(t, a.Partitions, again.Partitions)
		}
		decodeStickyUserData(b)
	})
}
