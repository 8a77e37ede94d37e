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
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("/auth/login", s.restLogin)
	mux.HandleFunc("/auth/refresh", s.restRefresh)
	mux.HandleFunc("/auth/logout", s.restLogout)
	mux.HandleFunc("/server/ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "pong")
	})
	mux.HandleFunc("/server/info", s.restServerInfo)
	mux.HandleFunc("/fields/{collection}", s.restFields)
	mux.HandleFunc("/items/{collection}", s.restItems)
	mux.HandleFunc("/items/{collection}/{id}", s.restItems)
}

func restError(w http.ResponseWriter, status int, e *apiError) {
	writeJSON(w, status, errorBody(e.code, e.message, nil))
}

var errForbiddenREST = &apiError{"FORBIDDEN", "You don't have permission to access this."}

func (s *Server) tokenResponseLocked(w http.ResponseWriter, u *User) {
	access, refresh, ttl := s.issueLocked(u)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"expires": ttl.Milliseconds(), "refresh_token": refresh, "access_token": access,
	}})
}

func (s *Server) restLogin(w http.ResponseWriter, r *http.Request) {
	var body struct{ Email, Password string }
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		restError(w, http.StatusBadRequest, &apiError{"INVALID_PAYLOAD", "Invalid payload."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.loginLocked(body.Email, body.Password)
	if err != nil {
		restError(w, http.StatusUnauthorized, err)
		return
	}
	s.tokenResponseLocked(w, u)
}

func (s *Server) restRefresh(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		restError(w, http.StatusBadRequest, &apiError{"INVALID_PAYLOAD", "Invalid payload."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.rotateLocked(body.RefreshToken)
	if err != nil {
		restError(w, http.StatusUnauthorized, err)
		return
	}
	s.tokenResponseLocked(w, u)
}

// restLogout revokes a refresh token, as Directus's POST /auth/logout does
// (204, or 400 INVALID_PAYLOAD without one).
func (s *Server) restLogout(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil || body.RefreshToken == "" {
		restError(w, http.StatusBadRequest, &apiError{"INVALID_PAYLOAD", "Invalid payload."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refresh[body.RefreshToken]; !ok {
		restError(w, http.StatusUnauthorized, errCredentials)
		return
	}
	delete(s.refresh, body.RefreshToken)
	s.logouts++
	w.WriteHeader(http.StatusNoContent)
}

// restUserLocked resolves the Bearer token (or ?access_token=). ok is false when the request
// was answered with 401.
func (s *Server) restUserLocked(w http.ResponseWriter, r *http.Request) (*User, bool) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" {
		tok = r.URL.Query().Get("access_token")
	}
	if tok == "" {
		return nil, true
	}
	u, _, err := s.userForTokenLocked(tok)
	if err != nil {
		restError(w, http.StatusUnauthorized, err)
		return nil, false
	}
	return u, true
}

// restServerInfo answers GET /server/info: project information, and the
// version to an authenticated user (Directus 12.4.1 shows it to a plain API
// user as well as to an administrator).
func (s *Server) restServerInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.restUserLocked(w, r)
	if !ok {
		return
	}
	data := map[string]any{"project": map[string]any{"project_name": "Directus"}}
	if u != nil {
		data["version"] = cmp.Or(s.opts.Version, "12.4.1")
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func (s *Server) restFields(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.restUserLocked(w, r)
	if !ok {
		return
	}
	name := r.PathValue("collection")
	// A real Directus 12 refuses /fields to users whose policies grant no
	// read on directus_fields, which is the case of a plain API user like
	// the quickstart's bot (seen against directus@12.4.1).
	if u != nil && !u.Admin && !u.ReadFields {
		restError(w, http.StatusForbidden, &apiError{code: "FORBIDDEN",
			message: `You don't have permission to perform "read" for collection "directus_fields" or it does not exist.`})
		return
	}
	if !s.canReadLocked(u, name) {
		restError(w, http.StatusForbidden, errForbiddenREST)
		return
	}
	col := s.collections[name]
	names := col.fields
	if !col.declared {
		names = []string{col.pk}
		for f := range col.fieldSet {
			if f != col.pk {
				names = append(names, f)
			}
		}
	}
	var out []any
	for _, f := range names {
		out = append(out, map[string]any{
			"collection": name, "field": f, "type": "string",
			"schema": map[string]any{"name": f, "table": name, "is_primary_key": f == col.pk},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// urlQuery reads GET parameters: fields=a,b  sort=a,-b  filter={json}  limit  offset  search  meta.
func urlQuery(r *http.Request) map[string]any {
	m := map[string]any{}
	for k, vs := range r.URL.Query() {
		if len(vs) == 0 || k == "access_token" {
			continue
		}
		v := vs[0]
		switch k {
		case "filter", "deep", "alias":
			var obj any
			if json.Unmarshal([]byte(v), &obj) == nil {
				m[k] = obj
			} else {
				m[k] = v
			}
		default:
			m[k] = v
		}
	}
	return m
}

func (s *Server) restItems(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var payload any
	if len(strings.TrimSpace(string(body))) > 0 && json.Unmarshal(body, &payload) != nil {
		restError(w, http.StatusBadRequest, &apiError{"INVALID_PAYLOAD", "Invalid payload."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.restUserLocked(w, r)
	if !ok {
		return
	}
	name := r.PathValue("collection")
	id := r.PathValue("id")
	var qm map[string]any
	if r.Method == "SEARCH" {
		pm, _ := payload.(map[string]any)
		qm, _ = pm["query"].(map[string]any)
	} else {
		qm = urlQuery(r)
	}
	read := r.Method == http.MethodGet || r.Method == "SEARCH"
	allowed := s.canReadLocked(u, name)
	if !read {
		allowed = s.canWriteLocked(u, name)
	}
	if strings.HasPrefix(name, "directus_") || !allowed {
		restError(w, http.StatusForbidden, errForbiddenREST)
		return
	}
	col := s.collections[name]
	q, qerr := parseQuery(qm, col)
	if qerr != nil {
		status := http.StatusBadRequest
		if qerr.code == "FORBIDDEN" {
			status = http.StatusForbidden
		}
		restError(w, status, qerr)
		return
	}
	respond := func(data any, err *apiError) {
		if err != nil {
			restError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": data})
	}
	pm, _ := payload.(map[string]any)
	switch {
	case read && id != "":
		rows := s.readLocked(col, query{fields: q.fields, hasLim: true, limit: -1}, []any{id})
		if len(rows) == 0 {
			restError(w, http.StatusForbidden, errForbiddenREST)
			return
		}
		respond(rows[0], nil)
	case read:
		var keys []any
		if k, ok := pm["keys"].([]any); ok {
			keys = k
		}
		rows := s.readLocked(col, q, keys)
		out := map[string]any{"data": rows}
		if m := metaFor(q, col, len(rows)); m != nil {
			out["meta"] = m
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodPost:
		respond(s.itemsLocked(col, "create", nil, nil, payload, q, false))
	case r.Method == http.MethodPatch && id != "":
		// The key comes from the URL: a string, which item subscriptions match.
		respond(s.itemsLocked(col, "update", id, nil, payload, q, false))
	case r.Method == http.MethodPatch:
		respond(s.restUpdateManyLocked(col, q, payload))
	case r.Method == http.MethodDelete && id != "":
		if _, row := col.find(id); row == nil {
			restError(w, http.StatusForbidden, errForbiddenREST)
			return
		}
		s.deleteLocked(col, []any{id})
		s.emitLocked(col, "delete", []any{id})
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete:
		keys, err := s.restDeleteKeysLocked(col, payload)
		if err != nil {
			respond(nil, err)
			return
		}
		s.deleteLocked(col, keys)
		s.emitLocked(col, "delete", keys)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// restUpdateManyLocked is PATCH /items/{collection}: either a list of items,
// each with its key (one update event per item), or {"keys"|"query", "data"}.
func (s *Server) restUpdateManyLocked(col *collection, q query, payload any) (any, *apiError) {
	if list, ok := payload.([]any); ok {
		var rows []any
		for _, e := range list {
			m, _ := e.(map[string]any)
			k := m[col.pk]
			patch := map[string]any{}
			for f, v := range m {
				if f != col.pk {
					patch[f] = v
				}
			}
			row, err := s.itemsLocked(col, "update", normalizeAny(k), nil, patch, query{fields: q.fields}, false)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
		return rows, nil
	}
	pm, _ := payload.(map[string]any)
	var bq query
	hasQuery := false
	if m, ok := pm["query"].(map[string]any); ok {
		var err *apiError
		if bq, err = parseQuery(m, col); err != nil {
			return nil, err
		}
		hasQuery = true
	}
	keys, _ := pm["keys"].([]any)
	if keys == nil && hasQuery {
		keys = s.keysLocked(col, bq)
	}
	return s.itemsLocked(col, "update", nil, keys, pm["data"], query{fields: q.fields}, false)
}

// restDeleteKeysLocked is the keys DELETE /items/{collection} names: a list
// of keys, {"keys": [...]} or {"query": {...}}.
func (s *Server) restDeleteKeysLocked(col *collection, payload any) ([]any, *apiError) {
	pm, _ := payload.(map[string]any)
	switch {
	case payload != nil && isList(payload):
		return payload.([]any), nil
	case pm["keys"] != nil:
		keys, _ := pm["keys"].([]any)
		return keys, nil
	case pm["query"] != nil:
		m, _ := pm["query"].(map[string]any)
		bq, err := parseQuery(m, col)
		if err != nil {
			return nil, err
		}
		return s.keysLocked(col, bq), nil
	default:
		return nil, &apiError{"INVALID_PAYLOAD", `"keys" or "query" is required`}
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }
