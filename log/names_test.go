package log_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/log"
	"github.com/stratalog/strata/vfs"
)

func TestValidateTopicName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"orders", true},
		{"Orders.v2_final-1", true},
		{"a", true},
		{"-", true},
		{"...", true},
		{"__consumer_offsets", true}, // valid, but reserved: see TestReservedTopicNames
		{strings.Repeat("x", 249), true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/b", false},
		{"/abs", false},
		{`a\b`, false},
		{"a b", false},
		{"tab\t", false},
		{"nul\x00", false},
		{"ü", false},
		{"a:b", false},
		{"*", false},
		{strings.Repeat("x", 250), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := log.ValidateTopicName(tt.name)
			if tt.valid {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, log.ErrInvalidTopicName)
		})
	}
}

// An invalid name never creates anything, inside or outside the data directory.
func TestCreateTopicRefusesInvalidNames(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	ctx := context.Background()
	for _, name := range []string{"", ".", "..", "../x", "a/b", "../../etc", strings.Repeat("y", 250)} {
		err := s.CreateTopic(ctx, name, log.TopicConfig{})
		require.ErrorIs(t, err, log.ErrInvalidTopicName, "name %q", name)
	}
	root, err := fsys.ReadDir("/")
	require.NoError(t, err)
	require.Equal(t, []string{"data"}, root)
	entries, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	require.Equal(t, []string{".lock", "topics.json"}, entries)
	topics, err := s.ListTopics()
	require.NoError(t, err)
	require.Empty(t, topics)
}

func TestReservedTopicNames(t *testing.T) {
	s := openStore(t, vfs.NewMem(), nil)
	err := s.CreateTopic(context.Background(), "__consumer_offsets", log.TopicConfig{})
	require.ErrorIs(t, err, log.ErrInvalidTopicName)
	require.ErrorContains(t, err, "reserved")
	// A single underscore is an ordinary name.
	createTopic(t, s, "_private", log.TopicConfig{})
}

// The longest name still makes a partition directory name within 255 bytes.
func TestLongestNameWithLargestPartition(t *testing.T) {
	fsys := vfs.NewMem()
	s := openStore(t, fsys, nil)
	name := strings.Repeat("n", log.MaxTopicNameLength)
	createTopic(t, s, name, log.TopicConfig{})
	entries, err := fsys.ReadDir("/data")
	require.NoError(t, err)
	require.Contains(t, entries, name+"-0")
	require.LessOrEqual(t, len(name+"-99999"), 255)
}

// A character outside [a-zA-Z0-9._-] is quoted whole in the error, a multi-byte
// one too, with the byte at which it starts.
func TestInvalidTopicNameQuotesTheCharacter(t *testing.T) {
	for name, want := range map[string]string{
		"ü":         `"ü" holds 'ü' at byte 0`,
		"caf\u00e9": `"café" holds 'é' at byte 3`,
		"a→b":       `"a→b" holds '→' at byte 1`,
		"a b":       `"a b" holds ' ' at byte 1`,
		"x\xffy":    `"x\xffy" holds '\xff' at byte 1`,
	} {
		err := log.ValidateTopicName(name)
		require.ErrorIs(t, err, log.ErrInvalidTopicName)
		require.ErrorContains(t, err, want)
	}
}
