package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Document is one document of a multi-document YAML stream.
type Document struct {
	// Index is the document's position in the stream, from 1.
	Index int
	// Item is the object's position in the list that document Index holds, from 1; 0 when the
	// document is the object itself (see ExpandLists).
	Item int
	// YAML is the document exactly as written, without its "---" separator.
	YAML []byte
	// APIVersion and Kind identify the object; both are empty for a document of only comments.
	APIVersion, Kind string
}

// DocumentError is an error in one document of a stream.
type DocumentError struct {
	// Index is the document's position in the stream, from 1.
	Index int
	// Err is what is wrong with it.
	Err error
}

// Error implements error.
func (e *DocumentError) Error() string { return fmt.Sprintf("document %d: %v", e.Index, e.Err) }

// Unwrap returns the underlying error.
func (e *DocumentError) Unwrap() error { return e.Err }

// MaxDocumentSize bounds one document, so that a hostile stream cannot exhaust memory: etcd stores
// no object larger than about 1.5 MiB, so no real manifest document comes near this.
const MaxDocumentSize = 8 << 20

// Read splits r into its documents. A document that is not YAML, or not an object with a kind, is a
// *DocumentError naming its index.
func Read(r io.Reader) ([]Document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReaderSize(r, 64<<10))
	var docs []Document
	for i := 1; ; i++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, &DocumentError{Index: i, Err: fmt.Errorf("read: %w", err)}
		}
		if len(chunk) > MaxDocumentSize {
			return nil, &DocumentError{Index: i, Err: fmt.Errorf("document is larger than %d bytes", MaxDocumentSize)}
		}
		doc, err := parse(i, chunk)
		if err != nil {
			return nil, &DocumentError{Index: i, Err: err}
		}
		docs = append(docs, doc)
	}
}

// parse identifies one document.
func parse(index int, chunk []byte) (Document, error) {
	doc := Document{Index: index, YAML: chunk}
	var obj any
	if err := yaml.Unmarshal(chunk, &obj); err != nil {
		return doc, fmt.Errorf("invalid YAML: %w", err)
	}
	if obj == nil {
		return doc, nil // comments only
	}
	fields, ok := obj.(map[string]any)
	if !ok {
		return doc, fmt.Errorf("not a Kubernetes object: a %s, not a mapping", kindOf(obj))
	}
	doc.APIVersion, _ = fields["apiVersion"].(string)
	doc.Kind, _ = fields["kind"].(string)
	if doc.APIVersion == "" || doc.Kind == "" {
		return doc, errors.New("not a Kubernetes object: apiVersion and kind must be set")
	}
	return doc, nil
}

// kindOf names the YAML type of a decoded value, for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	default:
		return "scalar"
	}
}

// Write writes docs as one stream, separated by "---".
func Write(w io.Writer, docs []Document) error {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(d.YAML)
		if len(d.YAML) > 0 && d.YAML[len(d.YAML)-1] != '\n' {
			buf.WriteByte('\n')
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
