package keyvalue

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratalog/strata/internal/errs"
)

func TestEncodeDecode(t *testing.T) {
	data := Encode("strata-example", 2, "a", "1", "b-0", "two words")
	require.Equal(t, "strata-example 2\na 1\nb-0 two words\ncrc32c b9ec7848\n", string(data))
	fields, version, err := Decode("f", "strata-example", 1, 2, data)
	require.NoError(t, err)
	require.Equal(t, 2, version)
	require.Equal(t, map[string]string{"strata-example": "2", "a": "1", "b-0": "two words"}, fields)
}

func TestDecodeRefuses(t *testing.T) {
	good := string(Encode("strata-example", 2, "a", "1"))
	for name, data := range map[string]string{
		"empty":             "",
		"no final newline":  good[:len(good)-1],
		"no crc line":       "strata-example 2\n",
		"bad crc line":      "strata-example 2\na 1\ncrc32c zz\n",
		"crc mismatch":      "strata-example 2\na 2\n" + good[len("strata-example 2\na 1\n"):],
		"other format":      string(Encode("strata-other", 2, "a", "1")),
		"version too new":   string(Encode("strata-example", 3, "a", "1")),
		"version too old":   string(Encode("strata-example", 0, "a", "1")),
		"version not a num": string(Encode("strata-example", 2, "strata-example", "x")),
	} {
		_, _, err := Decode("f", "strata-example", 1, 2, []byte(data))
		require.ErrorIs(t, err, errs.ErrCorrupt, name)
	}
}
