package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stratalog/strata/log"
)

// properties parses --property key=value pairs (Kafka's console tools' formatter
// and reader properties) against the known keys, every problem at once.
func parseProperties(pairs []string, known []string) (map[string]string, error) {
	props := map[string]string{}
	var problems []string
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		switch {
		case !ok || key == "":
			problems = append(problems, fmt.Sprintf("--property %q: want key=value", pair))
		case !slices.Contains(known, key):
			problems = append(problems, fmt.Sprintf("--property %s: unknown (known: %s)", key, strings.Join(known, ", ")))
		default:
			props[key] = unescape(value)
		}
	}
	for _, key := range known {
		value, set := props[key]
		if !set || !strings.HasPrefix(key, "print.") && !strings.HasPrefix(key, "parse.") {
			continue
		}
		if _, err := strconv.ParseBool(value); err != nil {
			problems = append(problems, fmt.Sprintf("--property %s=%s: want true or false", key, value))
		}
	}
	if problems != nil {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return props, nil
}

// unescape turns the escapes a shell makes awkward to type (\t, \n, \r, \\) into
// their characters, as Kafka's tools do for their separators.
func unescape(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\r`, "\r", `\\`, `\`).Replace(s)
}

// boolProperty returns the boolean property key (checked by parseProperties), or
// def if it is not set.
func boolProperty(props map[string]string, key string, def bool) bool {
	value, ok := props[key]
	if !ok {
		return def
	}
	b, _ := strconv.ParseBool(value)
	return b
}

// stringProperty returns the property key, or def if it is not set.
func stringProperty(props map[string]string, key, def string) string {
	if value, ok := props[key]; ok {
		return value
	}
	return def
}

// Properties of consume (Kafka's DefaultMessageFormatter).
var consumeProperties = []string{
	"print.timestamp", "print.partition", "print.offset", "print.headers", "print.key", "print.value",
	"key.separator", "line.separator", "headers.separator", "null.literal",
}

// Properties of produce (Kafka's LineMessageReader, KIP-798).
var produceProperties = []string{
	"parse.key", "key.separator", "parse.headers", "headers.delimiter", "headers.separator",
	"headers.key.separator", "null.marker",
}

// noHeaders is what consume prints for a record without headers, as Kafka does.
const noHeaders = "NO_HEADERS"

// appendHeaders appends headers as KEY:VALUE pairs joined by separator, or
// NO_HEADERS; a null value is nullLiteral.
func appendHeaders(b []byte, headers []log.Header, separator, nullLiteral string) []byte {
	if len(headers) == 0 {
		return append(b, noHeaders...)
	}
	for i, h := range headers {
		if i > 0 {
			b = append(b, separator...)
		}
		b = append(b, h.Key...)
		b = append(b, ':')
		if h.Value == nil {
			b = append(b, nullLiteral...)
		} else {
			b = append(b, h.Value...)
		}
	}
	return b
}

// headerFormat is how produce parses the headers of a line (parse.headers=true).
type headerFormat struct {
	delimiter    []byte // ends the headers: "\t"
	separator    []byte // between two headers: ","
	keySeparator []byte // between a header's key and value: ":"
	nullMarker   []byte // a value equal to it is null (nil: none)
}

// parse splits line into its headers and the rest, at the first delimiter. An
// empty header part means no headers.
func (f headerFormat) parse(line []byte) ([]log.Header, []byte, error) {
	head, rest, found := bytes.Cut(line, f.delimiter)
	if !found {
		return nil, nil, fmt.Errorf("no headers delimiter %q (every line must be HEADERS%sRECORD)", f.delimiter, f.delimiter)
	}
	if len(head) == 0 {
		return nil, rest, nil
	}
	var headers []log.Header
	for pair := range bytes.SplitSeq(head, f.separator) {
		key, value, ok := bytes.Cut(pair, f.keySeparator)
		if !ok {
			return nil, nil, fmt.Errorf("header %q has no key separator %q", pair, f.keySeparator)
		}
		h := log.Header{Key: string(key), Value: bytes.Clone(value)}
		if f.nullMarker != nil && bytes.Equal(value, f.nullMarker) {
			h.Value = nil
		}
		headers = append(headers, h)
	}
	return headers, rest, nil
}
