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

package fakedirectus

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
)

// apiError is a Directus error: code and message.
type apiError struct {
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errForbiddenCollection(coll string) *apiError {
	return &apiError{"FORBIDDEN", fmt.Sprintf("You don't have permission to access collection %q or it does not exist. Queried in root.", coll)}
}

func errForbiddenField(field, coll string) *apiError {
	return &apiError{"FORBIDDEN", fmt.Sprintf("You don't have permission to access field %q in collection %q or it does not exist. Queried in root.", field, coll)}
}

// query is a parsed Directus query.
type query struct {
	fields []string // nil: all
	filter map[string]any
	sort   []string
	limit  int // -1: all; unset: default
	hasLim bool
	offset int
	search string
	meta   string
}

var filterOps = map[string]bool{
	"_eq": true, "_neq": true, "_in": true, "_nin": true, "_contains": true, "_ncontains": true,
	"_icontains": true, "_starts_with": true, "_ends_with": true, "_gt": true, "_gte": true,
	"_lt": true, "_lte": true, "_null": true, "_nnull": true, "_empty": true, "_nempty": true,
}

// parseQuery reads a query object (WebSocket or SEARCH body) and validates it against the
// collection's fields, the way Directus does: unknown fields are FORBIDDEN, a bad operator or
// a non-numeric limit is INVALID_QUERY.
func parseQuery(raw map[string]any, c *collection) (query, *apiError) {
	q := query{}
	for k, v := range raw {
		switch k {
		case "fields":
			q.fields = stringList(v)
		case "sort":
			q.sort = stringList(v)
		case "filter":
			switch f := v.(type) {
			case map[string]any:
				q.filter = f
			case string:
				if err := json.Unmarshal([]byte(f), &q.filter); err != nil {
					return q, &apiError{"INVALID_QUERY", `Invalid query. "filter" must be a valid JSON object.`}
				}
			case nil:
			default:
				return q, &apiError{"INVALID_QUERY", `Invalid query. "filter" must be an object.`}
			}
		case "limit", "offset":
			n, ok := number(v)
			if !ok {
				return q, &apiError{"INVALID_QUERY", fmt.Sprintf("Invalid query. %q must be a number.", k)}
			}
			if k == "limit" {
				q.limit, q.hasLim = int(n), true
			} else {
				q.offset = int(n)
			}
		case "search":
			q.search, _ = v.(string)
		case "meta":
			q.meta = strings.Join(stringList(v), ",")
		}
	}
	for _, f := range q.fields {
		if f == "*" || strings.Contains(f, ".") {
			continue
		}
		if !c.hasField(f) {
			return q, errForbiddenField(f, c.name)
		}
	}
	for _, s := range q.sort {
		if f := strings.TrimPrefix(s, "-"); !c.hasField(f) {
			return q, errForbiddenField(f, c.name)
		}
	}
	if err := validateFilter(q.filter, c); err != nil {
		return q, err
	}
	return q, nil
}

func validateFilter(f map[string]any, c *collection) *apiError {
	for k, v := range f {
		if k == "_and" || k == "_or" {
			list, _ := v.([]any)
			for _, sub := range list {
				m, _ := sub.(map[string]any)
				if err := validateFilter(m, c); err != nil {
					return err
				}
			}
			continue
		}
		if !c.hasField(k) {
			return errForbiddenField(k, c.name)
		}
		ops, ok := v.(map[string]any)
		if !ok {
			return &apiError{"INVALID_QUERY", fmt.Sprintf("Invalid query. %q must be an object of filter operators.", k)}
		}
		for op := range ops {
			if !filterOps[op] {
				return &apiError{"INVALID_QUERY", fmt.Sprintf("Invalid query. %q field type does not contain the %q filter operator.", k, op)}
			}
		}
	}
	return nil
}

func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil
		}
		parts := strings.Split(t, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return t
	}
	return nil
}

func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	}
	return 0, false
}

// keyString is the canonical string form of a primary key: 44, 44.0 and "44" are all "44".
func keyString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func matchFilter(row map[string]any, f map[string]any) bool {
	for k, v := range f {
		switch k {
		case "_and":
			list, _ := v.([]any)
			for _, sub := range list {
				m, _ := sub.(map[string]any)
				if !matchFilter(row, m) {
					return false
				}
			}
		case "_or":
			list, _ := v.([]any)
			found := false
			for _, sub := range list {
				m, _ := sub.(map[string]any)
				if matchFilter(row, m) {
					found = true
					break
				}
			}
			if !found && len(list) > 0 {
				return false
			}
		default:
			ops, _ := v.(map[string]any)
			for op, arg := range ops {
				if !matchOp(row[k], op, arg) {
					return false
				}
			}
		}
	}
	return true
}

func matchOp(val any, op string, arg any) bool {
	switch op {
	case "_eq":
		return val != nil && keyString(val) == keyString(arg)
	case "_neq":
		return val == nil || keyString(val) != keyString(arg)
	case "_in", "_nin":
		in := false
		for _, a := range anyList(arg) {
			if val != nil && keyString(val) == keyString(a) {
				in = true
			}
		}
		return in == (op == "_in")
	case "_contains", "_ncontains":
		s, _ := val.(string)
		return strings.Contains(s, fmt.Sprint(arg)) == (op == "_contains")
	case "_icontains":
		s, _ := val.(string)
		return strings.Contains(strings.ToLower(s), strings.ToLower(fmt.Sprint(arg)))
	case "_starts_with":
		s, _ := val.(string)
		return strings.HasPrefix(s, fmt.Sprint(arg))
	case "_ends_with":
		s, _ := val.(string)
		return strings.HasSuffix(s, fmt.Sprint(arg))
	case "_gt", "_gte", "_lt", "_lte":
		if val == nil {
			return false
		}
		c := compare(val, arg)
		switch op {
		case "_gt":
			return c > 0
		case "_gte":
			return c >= 0
		case "_lt":
			return c < 0
		default:
			return c <= 0
		}
	case "_null":
		return (val == nil) == truthy(arg)
	case "_nnull":
		return (val != nil) == truthy(arg)
	case "_empty":
		return (val == nil || val == "") == truthy(arg)
	case "_nempty":
		return (val != nil && val != "") == truthy(arg)
	}
	return false
}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true" || t == "1"
	}
	f, _ := number(v)
	return f != 0
}

func anyList(v any) []any {
	switch t := v.(type) {
	case []any:
		return t
	case string:
		out := []any{}
		for s := range strings.SplitSeq(t, ",") {
			out = append(out, s)
		}
		return out
	}
	return []any{v}
}

// compare orders nil first, then numbers, then strings.
func compare(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		default:
			return 1
		}
	}
	fa, oka := number(a)
	fb, okb := number(b)
	_, sa := a.(string)
	_, sb := b.(string)
	if oka && okb && (!sa || !sb) {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func sortRows(rows []map[string]any, by []string) {
	if len(by) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for _, s := range by {
			desc := strings.HasPrefix(s, "-")
			f := strings.TrimPrefix(s, "-")
			c := compare(rows[i][f], rows[j][f])
			if c == 0 {
				continue
			}
			if desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

func matchSearch(row map[string]any, s string) bool {
	if s == "" {
		return true
	}
	s = strings.ToLower(s)
	for _, v := range row {
		if str, ok := v.(string); ok && strings.Contains(strings.ToLower(str), s) {
			return true
		}
	}
	return false
}

func project(row map[string]any, fields []string) map[string]any {
	out := map[string]any{}
	all := len(fields) == 0
	for _, f := range fields {
		if f == "*" {
			all = true
		}
	}
	if all {
		maps.Copy(out, row)
		return out
	}
	for _, f := range fields {
		if v, ok := row[f]; ok {
			out[f] = v
		} else if !strings.Contains(f, ".") {
			out[f] = nil
		}
	}
	return out
}
