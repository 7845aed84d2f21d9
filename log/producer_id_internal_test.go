package log

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/crcline"
)

// producerIDGolden is the example of FORMAT.md's "producer-ids.json".
const producerIDGolden = "{\"version\":1,\"blockEnd\":2000}\ncrc32c 9ab60c1e\n"

func TestIdempotentProducerIDFileGolden(t *testing.T) {
	require.Equal(t, producerIDGolden, string(encodeProducerIDFile(2000)))
	end, err := decodeProducerIDFile("producer-ids.json", []byte(producerIDGolden))
	require.NoError(t, err)
	require.Equal(t, int64(2000), end)
}

func TestIdempotentProducerIDFileRefusesBadBytes(t *testing.T) {
	for name, data := range map[string]string{
		"no checksum":    "{\"version\":1,\"blockEnd\":2000}\n",
		"wrong checksum": "{\"version\":1,\"blockEnd\":2001}\ncrc32c 9ab60c1e\n",
		"other version":  string(encodeRaw("{\"version\":2,\"blockEnd\":2000}\n")),
		"negative end":   string(encodeRaw("{\"version\":1,\"blockEnd\":-1}\n")),
		"unknown key":    string(encodeRaw("{\"version\":1,\"blockEnd\":1,\"x\":1}\n")),
		"two objects":    string(encodeRaw("{\"version\":1,\"blockEnd\":1}{}\n")),
		"empty":          "",
	} {
		_, err := decodeProducerIDFile("producer-ids.json", []byte(data))
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

func FuzzProducerIDFile(f *testing.F) {
	f.Add([]byte(producerIDGolden))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		end, err := decodeProducerIDFile("producer-ids.json", data)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		require.GreaterOrEqual(t, end, int64(0))
		again, err := decodeProducerIDFile("producer-ids.json", encodeProducerIDFile(end))
		require.NoError(t, err)
		require.Equal(t, end, again)
	})
}

// encodeRaw seals body with its checksum line.
func encodeRaw(body string) []byte { return crcline.Append([]byte(body)) }
