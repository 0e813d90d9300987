package manifest

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// IsList reports whether d is a list of objects: kind List (what `kubectl get -o yaml` prints)
// or a typed list such as ConfigMapList.
func IsList(d Document) bool {
	return strings.HasSuffix(d.Kind, "List")
}

// ExpandLists returns docs with every list replaced by its items, each a Document of its own with
// the list's Index and its position in the list as Item. An item that is not an object with
// apiVersion and kind is a *DocumentError naming the list and the item.
func ExpandLists(docs []Document) ([]Document, error) {
	var out []Document
	for _, d := range docs {
		if !IsList(d) {
			out = append(out, d)
			continue
		}
		var list struct {
			Items []any `json:"items"`
		}
		if err := yaml.Unmarshal(d.YAML, &list); err != nil {
			return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("%s: %w", d.Kind, err)}
		}
		for i, item := range list.Items {
			data, err := yaml.Marshal(item)
			if err != nil {
				return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("%s item %d: %w", d.Kind, i+1, err)}
			}
			doc, err := parse(d.Index, data)
			if err != nil {
				return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("%s item %d: %w", d.Kind, i+1, err)}
			}
			doc.Item = i + 1
			out = append(out, doc)
		}
	}
	return out, nil
}
