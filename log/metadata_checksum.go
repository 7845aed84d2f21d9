package log

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/stratalog/strata/internal/crcline"
	"github.com/stratalog/strata/internal/errs"
)

// Format: topics.json, versions 2, 3 and 4, is the JSON of metadataFile (indented,
// ending in a newline) followed by one last line,
//
//	crc32c xxxxxxxx\n
//
// where xxxxxxxx is the CRC-32C (Castagnoli) of every byte before that line, as 8
// lowercase hex digits: the convention of the partition checkpoint files. The JSON
// stays readable and editable by hand (an edit must recompute the line). A file
// without the line is read as version 1, the format written before the checksum
// existed, and must say "version": 1: a later file whose last line was cut off or
// damaged is corrupt, never mistaken for an unchecked version 1.

// encodeMetadata returns the bytes of topics.json for m, in the current version,
// which gives every topic an ID: a topic without a valid one is an error (a file
// that Open would refuse is never written).
func encodeMetadata(m metadataFile) ([]byte, error) {
	for _, t := range m.Topics {
		if _, ok := parseTopicID(t.TopicID); !ok {
			return nil, fmt.Errorf("topic %q: no valid topic ID (%q) to write", t.Name, t.TopicID)
		}
	}
	m.Version = metadataVersion
	m.Topics = slices.Clone(m.Topics)
	slices.SortFunc(m.Topics, func(a, b topicMetadata) int { return strings.Compare(a.Name, b.Name) })
	if m.Topics == nil {
		m.Topics = []topicMetadata{}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return crcline.Append(append(data, '\n')), nil
}

// decodeMetadata decodes and checks the bytes of topics.json (read from path, for
// errors): version 4, 3 or 2 with its checksum, or version 1 without; versions 1,
// 2 and 3 come back in version 4's shape, their Version kept (and no topic IDs).
// Any failure is a *CorruptError.
func decodeMetadata(path string, data []byte) (metadataFile, error) {
	body, sealed, err := crcline.Split(path, data)
	if err != nil {
		return metadataFile{}, err
	}
	var head struct {
		Version int `json:"version"`
	}
	_ = json.Unmarshal(body, &head) // a file that is no JSON fails below, with the offset
	var meta metadataFile
	if head.Version == legacyMetadataVersion || head.Version == checkedLegacyMetadataVersion {
		var legacy legacyMetadataFile
		if err := decodeJSON(path, body, &legacy); err != nil {
			return metadataFile{}, err
		}
		if meta, err = legacy.current(); err != nil {
			return metadataFile{}, errs.Corruptf(path, 0, "%v", err)
		}
	} else if err := decodeJSON(path, body, &meta); err != nil {
		return metadataFile{}, err
	}
	switch {
	case !sealed && meta.Version != legacyMetadataVersion:
		return metadataFile{}, errs.Corruptf(path, 0, "version %d without a checksum line: this code reads versions %d, %d and %d with one, or version %d", meta.Version, metadataVersion, unidentifiedMetadataVersion, checkedLegacyMetadataVersion, legacyMetadataVersion)
	case sealed && meta.Version != metadataVersion && meta.Version != unidentifiedMetadataVersion && meta.Version != checkedLegacyMetadataVersion:
		return metadataFile{}, errs.Corruptf(path, 0, "version %d, this code reads version %d (and %d, %d, %d)", meta.Version, metadataVersion, unidentifiedMetadataVersion, checkedLegacyMetadataVersion, legacyMetadataVersion)
	}
	if err := meta.check(); err != nil {
		return metadataFile{}, errs.Corruptf(path, 0, "%v", err)
	}
	return meta, nil
}

// decodeJSON decodes body, one JSON value and nothing after it but whitespace,
// into v, refusing unknown fields: any failure is a *CorruptError.
func decodeJSON(path string, body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Corruptf(path, dec.InputOffset(), "%v", err)
	}
	if rest := body[dec.InputOffset():]; len(bytes.TrimSpace(rest)) > 0 {
		return errs.Corruptf(path, dec.InputOffset(), "%d bytes after the JSON", len(rest))
	}
	return nil
}
