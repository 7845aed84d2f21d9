package group

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// DeleteOffsets (Kafka's OffsetDelete) deletes the offsets of topics the
// group's members do not subscribe to, keeps the others
// (ErrGroupSubscribedToTopic), and deletes every one asked for once the group is
// empty.
func TestDeleteOffsets(t *testing.T) {
	c := newTestCoordinator(t, nil)
	ctx := testContext(t)
	ids, generation := stableGroup(t, c, "g", 1) // subscribed to orders
	commitOne(t, c, "g", ids[0], generation, tp("orders", 0), 1)
	commitOne(t, c, "g", ids[0], generation, tp("payments", 0), 2)

	results, err := c.DeleteOffsets(ctx, "g", []TopicPartition{tp("orders", 0), tp("payments", 0), tp("payments", 1)})
	require.NoError(t, err)
	require.Equal(t, map[TopicPartition]error{tp("orders", 0): ErrGroupSubscribedToTopic, tp("payments", 0): nil, tp("payments", 1): nil}, results)
	offsets, err := c.FetchOffsets(ctx, "g", nil)
	require.NoError(t, err)
	require.Len(t, offsets, 1)
	require.Contains(t, offsets, tp("orders", 0))

	require.NoError(t, c.LeaveGroup("g", ids[0], ""))
	results, err = c.DeleteOffsets(ctx, "g", []TopicPartition{tp("orders", 0)})
	require.NoError(t, err)
	require.Equal(t, map[TopicPartition]error{tp("orders", 0): nil}, results)
	offsets, err = c.FetchOffsets(ctx, "g", nil)
	require.NoError(t, err)
	require.Empty(t, offsets)

	_, err = c.DeleteOffsets(ctx, "nope", []TopicPartition{tp("orders", 0)})
	require.ErrorIs(t, err, ErrGroupNotFound)
	_, err = c.DeleteOffsets(ctx, "", nil)
	require.ErrorIs(t, err, ErrInvalidGroupID)
	other := consumerJoin("connect", "", []string{"orders"})
	other.ProtocolType = "connect"
	_, err = c.join(other).result(t)
	require.NoError(t, err)
	_, err = c.DeleteOffsets(ctx, "connect", []TopicPartition{tp("orders", 0)})
	require.ErrorIs(t, err, ErrNonEmptyGroup)
	require.NoError(t, c.Close())
	_, err = c.DeleteOffsets(ctx, "g", []TopicPartition{tp("orders", 0)})
	require.ErrorIs(t, err, ErrCoordinatorClosed)
}
