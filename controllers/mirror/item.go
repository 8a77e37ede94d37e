/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package mirror

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ItemKey reads the key field of an item as a string: Directus sends keys as
// numbers or strings (a delete made through the REST URL even sends numeric
// keys as strings), so 44 and "44" are the same key. Nested fields use dots
// ("author.id").
func ItemKey(item json.RawMessage, field string) (string, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(item))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return "", fmt.Errorf("item is not a JSON object: %w", err)
	}
	raw, ok := obj[field]
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("item has no %q field", field)
	}
	return ScalarString(raw)
}

// ScalarString turns a JSON string or number into its text: "44" → 44,
// 44 → 44.
func ScalarString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("empty value")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	return "", fmt.Errorf("key is neither a string nor a number: %s", truncate(string(raw), 40))
}

// WithoutField returns the item without one top-level field: the operator
// adds the key field to a query that did not ask for it and removes it again
// so the stored item is what the user asked for.
func WithoutField(item json.RawMessage, field string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(item, &obj); err != nil {
		return nil, err
	}
	if _, ok := obj[field]; !ok {
		return item, nil
	}
	delete(obj, field)
	return json.Marshal(obj)
}
