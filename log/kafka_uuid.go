package log

import (
	"crypto/rand"
	"encoding/base64"
)

// Format: the ids of meta.properties and brokers.json (cluster.id, directory.id)
// are Kafka's Uuid in its text form: 16 bytes in unpadded URL-safe base64, 22
// characters.
const kafkaUUIDLength = 22

var kafkaUUIDEncoding = base64.RawURLEncoding.Strict()

// newKafkaUUID returns a random id as Kafka's Uuid.randomUuid makes one: a version-4
// UUID in Kafka's text form, drawn again if the text starts with '-' (Kafka avoids
// those: they read as a command-line option).
func newKafkaUUID() string {
	for {
		var b [16]byte
		rand.Read(b[:])         // never fails (crypto/rand crashes the program instead)
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		if s := kafkaUUIDEncoding.EncodeToString(b[:]); s[0] != '-' {
			return s
		}
	}
}

// validKafkaUUID reports whether s is an id in Kafka's Uuid text form, spelled as
// its encoding spells it (so that one id has one spelling), and not the zero id
// (Kafka's "unassigned").
func validKafkaUUID(s string) bool {
	if len(s) != kafkaUUIDLength {
		return false
	}
	b, err := kafkaUUIDEncoding.DecodeString(s)
	if err != nil || len(b) != 16 || kafkaUUIDEncoding.EncodeToString(b) != s {
		return false
	}
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}
