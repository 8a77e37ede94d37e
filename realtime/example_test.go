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

package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// The realtime quickstart: subscribe to new messages and create some.
func Example() {
	// A fake Directus stands in for https://directus.example.com.
	srv := fakedirectus.New(fakedirectus.Options{})
	defer srv.Close()
	srv.AddCollection("messages", "id", "text", "user")
	srv.AddUser(fakedirectus.User{StaticToken: "bot-static-token", Read: []string{"messages"}, Write: []string{"messages"}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := realtime.New(realtime.Options{Server: realtime.Server{URL: srv.URL(), Auth: realtime.Auth{AccessToken: "bot-static-token"}}})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, realtime.SubscribeOptions{
		Collection: "messages",
		Event:      "create",
		Query:      json.RawMessage(`{"fields":["user","text"]}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	if m := <-sub.C(); m.Kind != realtime.KindInit {
		log.Fatalf("first message: %s", m.Kind)
	}
	if _, err := c.CreateItem(ctx, "messages", map[string]any{"text": "Hello!", "user": "ada"}); err != nil {
		log.Fatal(err)
	}
	m := <-sub.C()
	fmt.Println(m.Kind, string(m.Items[0]))
	// Output: create {"text":"Hello!","user":"ada"}
}

// Resynchronise from REST when a subscription reports a gap.
func ExampleREST_ReadAll() {
	srv := fakedirectus.New(fakedirectus.Options{})
	defer srv.Close()
	srv.AddCollection("messages", "id", "text")
	srv.AddUser(fakedirectus.User{StaticToken: "t", Read: []string{"messages"}})
	for i := range 1200 {
		srv.SetSilently("messages", map[string]any{"text": fmt.Sprint("m", i)})
	}
	r, err := realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: srv.URL(), Auth: realtime.Auth{AccessToken: "t"}}})
	if err != nil {
		log.Fatal(err)
	}
	rows, err := r.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["id","text"],"filter":{"id":{"_gt":1000}}}`), realtime.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(rows), string(rows[0]))
	// Output: 200 {"id":1001,"text":"m1000"}
}

// One Server, set once, for a Client and a REST client against the same Directus.
func ExampleServer() {
	dx := fakedirectus.New(fakedirectus.Options{})
	defer dx.Close()
	dx.AddCollection("messages", "id", "text")
	dx.AddUser(fakedirectus.User{StaticToken: "t", Read: []string{"messages"}})
	dx.SetSilently("messages", map[string]any{"text": "Hello!"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := realtime.Server{URL: dx.URL(), Auth: realtime.Auth{AccessToken: "t"}}
	c, err := realtime.New(realtime.Options{Server: srv})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	r, err := realtime.NewREST(realtime.RESTOptions{Server: srv})
	if err != nil {
		log.Fatal(err)
	}
	overSocket, err := c.ReadAll(ctx, "messages", nil, realtime.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	overREST, err := r.ReadAll(ctx, "messages", nil, realtime.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(overSocket[0]), string(overREST[0]))
	// Output: {"id":1,"text":"Hello!"} {"id":1,"text":"Hello!"}
}

func ExampleBackoff() {
	o := realtime.ReconnectOptions{InitialDelay: time.Second, MaxDelay: 10 * time.Second}
	for attempt := 1; attempt <= 5; attempt++ {
		fmt.Print(realtime.Backoff(o, attempt, nil), " ")
	}
	// Output: 1s 2s 4s 8s 10s
}
