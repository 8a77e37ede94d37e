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

package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// RESTOptions configures a REST client. Only Server.URL is required.
type RESTOptions struct {
	// Server is the Directus to call: URL, credentials, HTTP client and logger.
	Server
	// Timeout bounds each request. Defaults to 30s.
	Timeout time.Duration
	// PageSize is the limit of each page ReadAll fetches. Defaults to 500.
	PageSize int
	// MaxResponseBytes bounds the body of each response, and the pages of one ReadAll
	// together, so that a hostile or broken endpoint cannot exhaust memory. A
	// larger answer is not read further and fails with a *ResponseTooLargeError
	// (errors.Is ErrResponseTooLarge). Defaults to 64 MiB.
	MaxResponseBytes int64
}

// DefaultMaxResponseBytes is RESTOptions.MaxResponseBytes's default: 64 MiB, far above
// what one ConfigMap can hold (1 MiB) and what a page of items normally weighs.
const DefaultMaxResponseBytes = 64 << 20

// REST is a small Directus REST client: enough to read a collection in full (to resynchronise
// after a KindGap or a reconnect), look up primary keys, and make authenticated calls. It is
// safe for concurrent use.
type REST struct {
	o    RESTOptions
	base *url.URL
	log  logr.Logger

	mu        sync.Mutex
	access    string
	accessExp time.Time
	lifetime  time.Duration
	refresh   string
	// static is the static access token (Auth.AccessToken until
	// SetAccessToken replaces it).
	static string
}

// NewREST validates o and applies defaults. It does no network I/O.
func NewREST(o RESTOptions) (*REST, error) {
	if o.URL == "" {
		return nil, errors.New("directus: RESTOptions.URL is required")
	}
	_, base, err := endpoints(o.URL, defaultPath)
	if err != nil {
		return nil, err
	}
	if (o.Auth.Email == "") != (o.Auth.Password == "") {
		return nil, errors.New("directus: Auth.Email and Auth.Password must be set together")
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.PageSize <= 0 {
		o.PageSize = defaultPageSize
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	o.setServerDefaults()
	return &REST{o: o, base: base, log: o.Logger.WithName("directus-rest"), refresh: o.Auth.RefreshToken, static: o.Auth.AccessToken}, nil
}

// Do makes an authenticated JSON request. path is relative to the base URL and may carry a
// query string ("/items/messages?limit=1"). body (if not nil) is sent as JSON; the "data" of
// the reply is decoded into out (if not nil; a *json.RawMessage receives it verbatim). Errors
// from Directus are *ServerError with StatusCode set. A 401 with rotating credentials logs in
// again and retries once.
func (r *REST) Do(ctx context.Context, method, path string, body, out any) error {
	return r.do(ctx, method, path, nil, body, out, nil)
}

func (r *REST) do(ctx context.Context, method, path string, params url.Values, body, out any, meta *json.RawMessage) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("directus: encode body: %w", err)
		}
	}
	err := r.once(ctx, method, path, params, payload, out, meta)
	var se *ServerError
	if errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized && r.rotating() {
		r.log.V(4).Info("Access token refused, logging in again")
		r.invalidate()
		err = r.once(ctx, method, path, params, payload, out, meta)
	}
	return err
}

func (r *REST) once(ctx context.Context, method, path string, params url.Values, payload []byte, out any, meta *json.RawMessage) error {
	tok, err := r.token(ctx)
	if err != nil {
		return err
	}
	ref, err := url.Parse(path)
	if err != nil {
		return fmt.Errorf("directus: bad path %q: %w", path, err)
	}
	u := *r.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(ref.Path, "/")
	q := ref.Query()
	maps.Copy(q, params)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("directus: %s %s: %w", method, ref.Path, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := r.o.HTTPClient.Do(req)
	if err != nil {
		return redact(fmt.Errorf("directus: %s %s: %w", method, ref.Path, err), tok)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := readBounded(resp.Body, r.o.MaxResponseBytes, method+" "+ref.Path)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		se := parseErrorBody(b, resp.StatusCode)
		if se == nil {
			se = &ServerError{Type: typeHTTP, Code: strings.ToUpper(strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "_")),
				Message: method + " " + ref.Path, StatusCode: resp.StatusCode}
		}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			se.RetryAfter = time.Duration(secs) * time.Second
		}
		return se
	}
	if (out == nil && meta == nil) || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
		Meta json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("directus: %s %s: decode reply: %w", method, ref.Path, err)
	}
	if meta != nil {
		*meta = env.Meta
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = env.Data
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("directus: %s %s: decode data: %w", method, ref.Path, err)
	}
	return nil
}

// readBounded reads body up to limit bytes; a longer body fails with a *ResponseTooLargeError
// without being read further. request ("GET /items/x") names it in errors.
func readBounded(body io.Reader, limit int64, request string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("directus: %s: read body: %w", request, err)
	}
	if int64(len(b)) > limit {
		return nil, &ResponseTooLargeError{Request: request, Limit: limit}
	}
	return b, nil
}

// ServerVersion returns the Directus version from GET /server/info
// (data.version; Directus 12 shows it to any authenticated user, older
// versions to administrators only, or as data.directus.version). It is ""
// when the answer has none.
func (r *REST) ServerVersion(ctx context.Context) (string, error) {
	var info struct {
		Version  string `json:"version"`
		Directus struct {
			Version string `json:"version"`
		} `json:"directus"`
	}
	if err := r.Do(ctx, http.MethodGet, "/server/info", nil, &info); err != nil {
		return "", err
	}
	if info.Version != "" {
		return info.Version, nil
	}
	return info.Directus.Version, nil
}

// PrimaryKey returns the name of the collection's primary key field (GET /fields/<collection>,
// the field whose schema.is_primary_key is true).
func (r *REST) PrimaryKey(ctx context.Context, collection string) (string, error) {
	var fields []struct {
		Field  string `json:"field"`
		Schema *struct {
			IsPrimaryKey bool `json:"is_primary_key"`
		} `json:"schema"`
	}
	if err := r.Do(ctx, http.MethodGet, "/fields/"+url.PathEscape(collection), nil, &fields); err != nil {
		return "", err
	}
	for _, f := range fields {
		if f.Schema != nil && f.Schema.IsPrimaryKey {
			return f.Field, nil
		}
	}
	return "", fmt.Errorf("directus: collection %q has no primary key field", collection)
}

// ReadAll returns every item of collection matching query (a JSON object with any of fields,
// filter, sort, search, deep, alias, limit, offset, ...), paging as o says (see ReadOptions):
// by default, pages of PageSize with limit/offset, where a "limit" in the query caps the total
// (-1 means no cap) and an "offset" is the start; when the query has no sort, pages are sorted
// by the primary key so that paging is stable.
//
// The query travels as URL parameters of GET /items/<collection> (fields=a,b; sort=a,-b;
// filter, deep, alias JSON-encoded), exactly as the JS SDK sends it. Directus also accepts
// SEARCH /items/<collection> with {"query":{...}} in the body (middleware/validate-batch.ts),
// but GET works on every version and through every proxy.
func (r *REST) ReadAll(ctx context.Context, collection string, query json.RawMessage, o ReadOptions) ([]json.RawMessage, error) {
	return r.pager(collection).read(ctx, query, o)
}

// pager reads collection over GET /items/<collection>.
func (r *REST) pager(collection string) pager {
	return pager{
		collection: collection, pageSize: r.o.PageSize, maxBytes: r.o.MaxResponseBytes,
		request:    "GET /items/" + collection,
		primaryKey: func(ctx context.Context) (string, error) { return r.PrimaryKey(ctx, collection) },
		fetch: func(ctx context.Context, q map[string]json.RawMessage) ([]json.RawMessage, error) {
			params, err := queryParams(q)
			if err != nil {
				return nil, err
			}
			var page []json.RawMessage
			err = r.do(ctx, http.MethodGet, "/items/"+url.PathEscape(collection), params, nil, &page, nil)
			return page, err
		},
		log: r.o.Logger,
	}
}

func jsonInt(raw json.RawMessage) (int, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, errors.New("not a number")
		}
		n = json.Number(s)
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		return 0, errors.New("not an integer")
	}
	return i, nil
}

// queryParams encodes a Directus query as URL parameters: arrays of strings (fields, sort,
// groupBy) comma-joined, strings and numbers as they are, objects JSON-encoded.
func queryParams(q map[string]json.RawMessage) (url.Values, error) {
	v := url.Values{}
	for k, raw := range q {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		switch raw[0] {
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("directus: query %s: %w", k, err)
			}
			v.Set(k, s)
		case '[':
			var ss []string
			if err := json.Unmarshal(raw, &ss); err == nil {
				v.Set(k, strings.Join(ss, ","))
				continue
			}
			v.Set(k, string(raw))
		default:
			v.Set(k, string(raw))
		}
	}
	return v, nil
}
