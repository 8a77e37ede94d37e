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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
)

// pager reads a collection in full, a page at a time. REST and Client share
// it: they differ only in how one page travels (fetch).
type pager struct {
	collection string
	pageSize   int
	// maxBytes bounds the items of all pages together.
	maxBytes int64
	// request names the read in errors ("GET /items/messages").
	request string
	// primaryKey, if set, names the field to sort by when the query names
	// no order.
	primaryKey func(ctx context.Context) (string, error)
	// fetch reads one page: q is the whole query, with limit and offset.
	fetch func(ctx context.Context, q map[string]json.RawMessage) ([]json.RawMessage, error)
	log   logr.Logger
}

func parseQuery(query json.RawMessage) (map[string]json.RawMessage, error) {
	if err := validQuery(query); err != nil {
		return nil, err
	}
	q := map[string]json.RawMessage{}
	if !isNull(query) {
		if err := json.Unmarshal(query, &q); err != nil {
			return nil, fmt.Errorf("directus: query: %w", err)
		}
	}
	return q, nil
}

// ReadOptions say how a full read (Client.ReadAll, REST.ReadAll) pages.
// The zero value pages by limit and offset.
type ReadOptions struct {
	// Key, when set, pages by that field (keyset pagination): pages are
	// sorted by key and each asks for keys greater than the last one seen.
	// Unlike limit/offset paging, an item created or deleted while the
	// pages are read cannot shift another item out of them. Key must be
	// unique (the primary key, or a unique field) and be among the returned
	// fields. The query's sort, limit, offset and page are then ignored:
	// the result is a set, in key order.
	Key string
}

// read is the full read of both ReadAll methods.
func (p pager) read(ctx context.Context, query json.RawMessage, o ReadOptions) ([]json.RawMessage, error) {
	if o.Key != "" {
		return p.readAllByKey(ctx, query, o.Key)
	}
	return p.readAll(ctx, query)
}

// readAll pages by limit and offset; see REST.ReadAll.
func (p pager) readAll(ctx context.Context, query json.RawMessage) ([]json.RawMessage, error) {
	q, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	total := -1
	if raw, ok := q["limit"]; ok {
		n, err := jsonInt(raw)
		if err != nil {
			return nil, fmt.Errorf("directus: query limit: %w", err)
		}
		total = n
	}
	offset := 0
	if raw, ok := q["offset"]; ok {
		n, err := jsonInt(raw)
		if err != nil {
			return nil, fmt.Errorf("directus: query offset: %w", err)
		}
		offset = n
	}
	delete(q, "page")
	delete(q, "meta")
	if _, ok := q["sort"]; !ok && p.primaryKey != nil {
		// Directus applies no default order, so pages could overlap or
		// skip rows; sort by the primary key. Users without access to
		// directus_fields (most non-admin tokens) cannot look it up: they
		// get Directus's natural order, and callers that know the key
		// should put it in the query's sort.
		pk, err := p.primaryKey(ctx)
		var se *ServerError
		switch {
		case err == nil:
			q["sort"], _ = json.Marshal([]string{pk})
		case errors.As(err, &se) && (se.StatusCode == http.StatusForbidden || se.Code == CodeForbidden):
			p.log.V(4).Info("Primary key lookup forbidden, paging in natural order", "collection", p.collection)
		default:
			return nil, err
		}
	}
	var all []json.RawMessage
	budget := p.newBudget()
	for total < 0 || len(all) < total {
		size := p.pageSize
		if total >= 0 {
			size = min(size, total-len(all))
		}
		q["limit"], _ = json.Marshal(size)
		q["offset"], _ = json.Marshal(offset)
		page, err := p.fetch(ctx, q)
		if err != nil {
			return nil, err
		}
		if err := budget.spend(page); err != nil {
			return nil, err
		}
		// A server that answers more than the page's limit does not
		// stretch the query's limit.
		page = page[:min(len(page), size)]
		all = append(all, page...)
		offset += len(page)
		if len(page) < size {
			break
		}
	}
	return all, nil
}

// readAllByKey pages by key; see ReadOptions.Key.
func (p pager) readAllByKey(ctx context.Context, query json.RawMessage, key string) ([]json.RawMessage, error) {
	q, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"sort", "limit", "offset", "page", "meta"} {
		delete(q, k)
	}
	base := q["filter"]
	q["sort"], _ = json.Marshal([]string{key})
	q["limit"], _ = json.Marshal(p.pageSize)
	var all []json.RawMessage
	var last json.RawMessage
	budget := p.newBudget()
	for {
		if last != nil {
			after, _ := json.Marshal(map[string]any{key: map[string]json.RawMessage{"_gt": last}})
			if isNull(base) {
				q["filter"] = after
			} else {
				q["filter"], _ = json.Marshal(map[string][]json.RawMessage{"_and": {base, after}})
			}
		}
		page, err := p.fetch(ctx, q)
		if err != nil {
			return nil, err
		}
		if err := budget.spend(page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < p.pageSize {
			return all, nil
		}
		var row map[string]json.RawMessage
		if err := json.Unmarshal(page[len(page)-1], &row); err != nil {
			return nil, fmt.Errorf("directus: item is not an object: %w", err)
		}
		next, ok := row[key]
		if !ok || isNull(next) {
			return nil, fmt.Errorf("directus: items lack the key field %q: include it in the query's fields", key)
		}
		last = next
	}
}

// pageBudget counts the bytes of the pages of one full read against the
// reader's limit.
type pageBudget struct {
	left    int64
	limit   int64
	request string
}

func (p pager) newBudget() *pageBudget {
	return &pageBudget{left: p.maxBytes, limit: p.maxBytes, request: p.request}
}

// spend takes page's items from the budget and fails once they exceed it.
func (b *pageBudget) spend(page []json.RawMessage) error {
	for _, it := range page {
		b.left -= int64(len(it))
	}
	if b.left < 0 {
		return &ResponseTooLargeError{Request: b.request, Limit: b.limit, Total: true}
	}
	return nil
}

// defaultPageSize is the items per page of a full read.
const defaultPageSize = 500

// readPageTimeout bounds each page read over the socket: Directus's rate
// limiter drops a request without a reply.
const readPageTimeout = 30 * time.Second

// ReadAll is REST.ReadAll over the socket: each page is an "items" read
// action. Directus serves it with the socket's identity and skips the HTTP
// request's authentication (on Directus 12.4.1, 1,000 reads of two items
// cost its process 4.6 s of CPU this way against 6.7 s as GETs; make
// bench-scale measures it), which matters to a thousand subscriptions
// reading their collection after a restart. When the query names no sort
// and o.Key is empty, pages follow Directus's natural order: put the
// primary key in the sort. It needs a connection (ErrNotConnected
// otherwise).
func (c *Client) ReadAll(ctx context.Context, collection string, query json.RawMessage, o ReadOptions) ([]json.RawMessage, error) {
	return c.pager(collection).read(ctx, query, o)
}

func (c *Client) pager(collection string) pager {
	return pager{
		collection: collection, pageSize: defaultPageSize, maxBytes: DefaultMaxResponseBytes,
		request: "items read " + collection, log: c.log,
		fetch: func(ctx context.Context, q map[string]json.RawMessage) ([]json.RawMessage, error) {
			query, err := json.Marshal(q)
			if err != nil {
				return nil, err
			}
			data, err := c.items(ctx, ItemsRequest{Collection: collection, Action: "read", Query: query}, readPageTimeout)
			if err != nil {
				return nil, err
			}
			var page []json.RawMessage
			if err := json.Unmarshal(data, &page); err != nil {
				return nil, fmt.Errorf("directus: items read %s: data is not a list: %w", collection, err)
			}
			return page, nil
		},
	}
}
