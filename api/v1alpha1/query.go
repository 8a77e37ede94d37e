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

package v1alpha1

import (
	"encoding/json"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// DirectusQuery is the Directus query object. The keys a mirror depends on
// are typed, so the API server checks them at apply time and kubectl explain
// documents them; any other key (for example groupBy or backlink) is kept as
// written and passed to Directus untouched.
// +kubebuilder:pruning:PreserveUnknownFields
type DirectusQuery struct {
	// Fields lists the fields to return, for example ["id", "text",
	// "author.name"] or ["*"]. Defaults to every field the user may read.
	// +optional
	// +listType=atomic
	Fields []string `json:"fields,omitempty"`

	// Filter is a Directus filter object, for example
	// {"status": {"_eq": "published"}}. Create and update events honour it;
	// delete events do not, and an item updated out of the filter sends
	// nothing, so the periodic resync removes it.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Filter *apiextensionsv1.JSON `json:"filter,omitempty"`

	// Sort lists fields to sort by; a leading - sorts descending.
	// +optional
	// +listType=atomic
	Sort []string `json:"sort,omitempty"`

	// Limit caps the number of items: -1 for no limit, or at least 1. With a
	// limit the mirror holds a window and is refreshed from a snapshot after
	// each burst of changes.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == -1 || self >= 1",message="query.limit must be -1 (no limit) or at least 1"
	Limit *int64 `json:"limit,omitempty"`

	// Offset skips this many items.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Offset *int64 `json:"offset,omitempty"`

	// Search is a full-text search over the collection's string fields.
	// +optional
	Search string `json:"search,omitempty"`

	// Deep applies queries to nested relational data.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Deep *apiextensionsv1.JSON `json:"deep,omitempty"`

	// Alias renames fields: {"alias": "field"}.
	// +optional
	Alias map[string]string `json:"alias,omitempty"`

	// Extra holds the keys this type does not name, as written.
	Extra map[string]apiextensionsv1.JSON `json:"-"`
}

// knownQueryKeys are the DirectusQuery keys with typed fields.
var knownQueryKeys = map[string]bool{"fields": true, "filter": true, "sort": true, "limit": true, "offset": true, "search": true, "deep": true, "alias": true}

// UnmarshalJSON keeps keys it does not know in Extra. The typed fields are
// read from their exact keys only: encoding/json matches struct fields
// without regard to case, so "Limit" would otherwise fill Limit (past the
// CRD's check of "limit") and also stay in Extra, and Directus would get
// both.
func (q *DirectusQuery) UnmarshalJSON(data []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	typed := map[string]json.RawMessage{}
	var extra map[string]apiextensionsv1.JSON
	for k, v := range all {
		if knownQueryKeys[k] {
			typed[k] = v
			continue
		}
		if extra == nil {
			extra = map[string]apiextensionsv1.JSON{}
		}
		extra[k] = apiextensionsv1.JSON{Raw: append([]byte(nil), v...)}
	}
	b, err := json.Marshal(typed)
	if err != nil {
		return err
	}
	type plain DirectusQuery
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	p.Extra = extra
	*q = DirectusQuery(p)
	return nil
}

// MarshalJSON writes the typed keys and Extra as one object.
func (q DirectusQuery) MarshalJSON() ([]byte, error) {
	type plain DirectusQuery
	typed, err := json.Marshal(plain(q))
	if err != nil {
		return nil, err
	}
	if len(q.Extra) == 0 {
		return typed, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(typed, &all); err != nil {
		return nil, err
	}
	for k, v := range q.Extra {
		if knownQueryKeys[k] {
			return nil, fmt.Errorf("query key %q is typed; it cannot also be in Extra", k)
		}
		all[k] = v.Raw
	}
	return json.Marshal(all)
}
