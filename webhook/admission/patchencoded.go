package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

// diffEncoded is diffJSON on two documents exactly as encoding/json writes them (see
// inject.Injection.Encoded): compact, each object's keys unique. In such documents two parts are
// equal values exactly when their bytes are, so a part equal in both is skipped without being
// decoded, an object or array that differs is split into its members one level only, and a value
// the patch adds or replaces is carried as its bytes. The operations are diffJSON's, each
// object's keys in order. Only such documents may be given: the handler does so only when the
// reviewed one is byte for byte what the types write. A malformed one is an error; one that is
// well formed but written otherwise (spaces, a key twice) may get redundant operations.
func diffEncoded(a, b []byte, path string, ops []jsonpatch.JsonPatchOperation) ([]jsonpatch.JsonPatchOperation, error) {
	if bytes.Equal(a, b) {
		return ops, nil
	}
	switch {
	case isObject(a) && isObject(b):
		am, err := members(a)
		if err != nil {
			return nil, err
		}
		bm, err := members(b)
		if err != nil {
			return nil, err
		}
		for len(am) > 0 || len(bm) > 0 { // both sorted by key: walk them together
			switch {
			case len(bm) == 0 || len(am) > 0 && am[0].key < bm[0].key:
				ops = append(ops, jsonpatch.NewOperation("remove", pointer(path, am[0].key), nil))
				am = am[1:]
			case len(am) == 0 || bm[0].key < am[0].key:
				ops = append(ops, jsonpatch.NewOperation("add", pointer(path, bm[0].key), json.RawMessage(bm[0].value)))
				bm = bm[1:]
			default:
				if ops, err = diffEncoded(am[0].value, bm[0].value, pointer(path, bm[0].key), ops); err != nil {
					return nil, err
				}
				am, bm = am[1:], bm[1:]
			}
		}
		return ops, nil
	case isArray(a) && isArray(b):
		as, err := elements(a)
		if err != nil {
			return nil, err
		}
		bs, err := elements(b)
		if err != nil {
			return nil, err
		}
		ops = resizeArray(path, len(as), len(bs), func(i int) any { return json.RawMessage(bs[i]) }, ops)
		for i := range min(len(as), len(bs)) {
			if ops, err = diffEncoded(as[i], bs[i], path+"/"+strconv.Itoa(i), ops); err != nil {
				return nil, err
			}
		}
		return ops, nil
	}
	return append(ops, jsonpatch.NewOperation("replace", path, json.RawMessage(b))), nil
}

// errNotEncoded is returned for a document not as encoding/json writes it.
var errNotEncoded = errors.New("not a compact JSON document")

func isObject(data []byte) bool { return len(data) > 0 && data[0] == '{' }
func isArray(data []byte) bool  { return len(data) > 0 && data[0] == '[' }

// member is a key of an encoded object and its value, left encoded.
type member struct {
	key   string
	value []byte
}

// members splits the compact JSON object data into its members, sorted by key.
func members(data []byte) ([]member, error) {
	var out []member
	if len(data) == 2 && data[1] == '}' {
		return out, nil
	}
	for i := 1; ; {
		if i >= len(data) || data[i] != '"' {
			return nil, errNotEncoded
		}
		end, err := stringEnd(data, i)
		if err != nil || end >= len(data) || data[end] != ':' {
			return nil, errNotEncoded
		}
		key, err := unquote(data[i:end])
		if err != nil {
			return nil, err
		}
		valueEnd, err := valueEnd(data, end+1)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key: key, value: data[end+1 : valueEnd]})
		switch {
		case valueEnd == len(data)-1 && data[valueEnd] == '}':
			slices.SortFunc(out, func(x, y member) int { return strings.Compare(x.key, y.key) })
			return out, nil
		case data[valueEnd] == ',':
			i = valueEnd + 1
		default:
			return nil, errNotEncoded
		}
	}
}

// elements splits the compact JSON array data into its elements, left encoded.
func elements(data []byte) ([][]byte, error) {
	var out [][]byte
	if len(data) == 2 && data[1] == ']' {
		return out, nil
	}
	for i := 1; ; {
		end, err := valueEnd(data, i)
		if err != nil {
			return nil, err
		}
		out = append(out, data[i:end])
		switch {
		case end == len(data)-1 && data[end] == ']':
			return out, nil
		case data[end] == ',':
			i = end + 1
		default:
			return nil, errNotEncoded
		}
	}
}

// valueEnd returns the index just past the compact JSON value that starts at data[i], inside an
// object or array: the index of the ',', '}' or ']' that follows it.
func valueEnd(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errNotEncoded
	}
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '"':
			end, err := stringEnd(data, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j, checkNotEmpty(i, j)
			}
			depth--
		case ',':
			if depth == 0 {
				return j, checkNotEmpty(i, j)
			}
		}
	}
	return 0, errNotEncoded
}

func checkNotEmpty(start, end int) error {
	if end == start {
		return errNotEncoded
	}
	return nil
}

// stringEnd returns the index just past the JSON string whose opening quote is data[i].
func stringEnd(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errNotEncoded
}

// unquote decodes the JSON string quoted, its quotes included.
func unquote(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", errNotEncoded
	}
	return s, nil
}
