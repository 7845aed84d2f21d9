package log

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxTopicNameLength is the longest topic name, as in Kafka: a partition directory
// name, "<topic>-<partition>", then fits in the 255 bytes most filesystems allow.
const MaxTopicNameLength = 249

// MaxPartitions is the most partitions a topic may have. Partition numbers then have
// at most five digits, so that a partition directory name stays within 255 bytes.
const MaxPartitions = 100_000

// internalTopicPrefix starts the names of internal topics (such as the consumer
// groups' offsets topic); users cannot create topics with it.
const internalTopicPrefix = "__"

// ValidateTopicName returns nil if name is a valid topic name under Kafka's rules:
// 1 to 249 characters from [a-zA-Z0-9._-], and neither "." nor "..". Such a name
// cannot hold a path separator, so a topic's directory always lies inside the data
// directory. The error wraps ErrInvalidTopicName and says what is wrong.
//
// Names starting with "__" pass this check but are reserved for internal topics:
// CreateTopic refuses them.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidTopicName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q is not allowed", ErrInvalidTopicName, name)
	case len(name) > MaxTopicNameLength:
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrInvalidTopicName, len(name), MaxTopicNameLength)
	}
	for i := 0; i < len(name); i++ {
		if !validTopicByte(name[i]) {
			return fmt.Errorf("%w: %q holds %s at byte %d: only [a-zA-Z0-9._-] allowed", ErrInvalidTopicName, name, quoteCharAt(name, i), i)
		}
	}
	return nil
}

// quoteCharAt quotes the character of s that starts at byte i: a whole UTF-8
// sequence ('é'), or the byte alone if none starts there ('\xff').
func quoteCharAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("'\\x%02x'", s[i])
	}
	return strconv.QuoteRune(r)
}

func validTopicByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// isInternalTopic reports whether name is reserved for internal topics.
func isInternalTopic(name string) bool { return strings.HasPrefix(name, internalTopicPrefix) }

// partitionDirName returns the name of a partition's directory, as in Kafka's
// log.dirs: "<topic>-<partition>".
func partitionDirName(topic string, partition int) string {
	return topic + "-" + strconv.Itoa(partition)
}

// parsePartitionDirName splits a directory name made by partitionDirName. Topic
// names may hold '-', partition numbers cannot, so the split is at the last '-'. Only
// canonical names are accepted (no sign, no leading zeros), so that exactly one
// (topic, partition) maps to each accepted name.
func parsePartitionDirName(name string) (topic string, partition int, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, false
	}
	topic, digits := name[:i], name[i+1:]
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || n >= MaxPartitions || strconv.Itoa(n) != digits || ValidateTopicName(topic) != nil {
		return "", 0, false
	}
	return topic, n, true
}
