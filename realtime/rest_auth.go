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
	"net/http"
	"strings"
	"time"
)

func (r *REST) rotating() bool { return r.o.Auth.login() || r.o.Auth.RefreshToken != "" }

// token returns the bearer token to use, logging in or refreshing when needed.
func (r *REST) token(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.rotating() {
		return r.static, nil
	}
	if r.access != "" && time.Until(r.accessExp) > max(r.lifetime/10, 5*time.Second) {
		return r.access, nil
	}
	var ts tokenSet
	var err error
	if r.refresh != "" {
		ts, err = refreshRequest(ctx, r.o.HTTPClient, r.base.String(), r.refresh)
		if err != nil {
			r.refresh = ""
		}
	}
	if r.refresh == "" || err != nil {
		if !r.o.Auth.login() {
			if err == nil {
				err = errors.New("directus: no refresh token")
			}
			return "", redact(err, r.o.Auth.RefreshToken)
		}
		ts, err = loginRequest(ctx, r.o.HTTPClient, r.base.String(), r.o.Auth.Email, r.o.Auth.Password)
		if err != nil {
			return "", redact(err, r.o.Auth.Password)
		}
	}
	r.lifetime = time.Duration(ts.Expires) * time.Millisecond
	r.access, r.accessExp, r.refresh = ts.AccessToken, time.Now().Add(r.lifetime), ts.RefreshToken
	return r.access, nil
}

// Logout revokes the REST client's session and the extra refresh tokens given (the realtime
// client's, see Client.RefreshToken) with POST /auth/logout, so that sessions the caller no
// longer needs do not stay valid until they expire. It only revokes sessions the client made by
// logging in with email and password; tokens the caller supplied are left alone.
func (r *REST) Logout(ctx context.Context, extra ...string) error {
	if !r.o.Auth.login() {
		return nil
	}
	r.mu.Lock()
	tokens := append([]string{r.refresh}, extra...)
	r.refresh, r.access = "", ""
	r.mu.Unlock()
	var errs []error
	seen := map[string]bool{}
	for _, tok := range tokens {
		if tok == "" || seen[tok] {
			continue
		}
		seen[tok] = true
		b, _ := json.Marshal(struct {
			RefreshToken string `json:"refresh_token"`
			Mode         string `json:"mode"`
		}{tok, tokenModeJSON})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(r.base.String(), "/")+"/auth/logout", bytes.NewReader(b))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := r.o.HTTPClient.Do(req)
		if err != nil {
			errs = append(errs, redact(fmt.Errorf("directus: POST /auth/logout: %w", err), tok))
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			errs = append(errs, fmt.Errorf("directus: POST /auth/logout: HTTP %d", resp.StatusCode))
		}
	}
	return errors.Join(errs...)
}

func (r *REST) invalidate() {
	r.mu.Lock()
	r.access = ""
	r.mu.Unlock()
}
