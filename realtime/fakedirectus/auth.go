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

// Tokens, logins and permissions.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

func randToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issueLocked creates an access token (a JWT-shaped string with iat and exp) and a refresh
// token for u.
func (s *Server) issueLocked(u *User) (access, refresh string, ttl time.Duration) {
	now := time.Now()
	exp := now.Add(s.opts.AccessTokenTTL)
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	claims, _ := json.Marshal(map[string]any{"id": hex.EncodeToString(id), "iat": now.Unix(), "exp": exp.Unix(), "iss": "directus"})
	access = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(claims) + "." + randToken()[:22]
	refresh = randToken()
	s.tokens[access] = &issued{user: u, expires: exp}
	s.refresh[refresh] = u
	return access, refresh, s.opts.AccessTokenTTL
}

// userForTokenLocked resolves a static or issued access token. expires is zero for static tokens.
func (s *Server) userForTokenLocked(tok string) (*User, time.Time, *apiError) {
	if tok == "" || s.revoked[tok] {
		return nil, time.Time{}, errCredentials
	}
	for _, u := range s.users {
		if u.StaticToken != "" && u.StaticToken == tok {
			return u, time.Time{}, nil
		}
	}
	if is, ok := s.tokens[tok]; ok {
		if time.Now().After(is.expires) {
			return nil, time.Time{}, errExpired
		}
		return is.user, is.expires, nil
	}
	return nil, time.Time{}, errCredentials
}

func (s *Server) loginLocked(email, password string) (*User, *apiError) {
	for _, u := range s.users {
		if u.Email != "" && u.Email == email && u.Password == password {
			s.logins++
			return u, nil
		}
	}
	s.failedLogins++
	return nil, errCredentials
}

// rotateLocked spends a refresh token and issues new tokens.
func (s *Server) rotateLocked(rt string) (*User, *apiError) {
	u, ok := s.refresh[rt]
	if !ok || s.revoked[rt] {
		return nil, errCredentials
	}
	delete(s.refresh, rt)
	return u, nil
}

func (s *Server) canReadLocked(u *User, coll string) bool {
	if _, ok := s.collections[coll]; !ok {
		return false
	}
	if u == nil {
		return slices.Contains(s.opts.PublicRead, coll)
	}
	return u.Admin || slices.Contains(u.Read, coll)
}

func (s *Server) canWriteLocked(u *User, coll string) bool {
	if _, ok := s.collections[coll]; !ok {
		return false
	}
	return u != nil && (u.Admin || slices.Contains(u.Write, coll))
}
