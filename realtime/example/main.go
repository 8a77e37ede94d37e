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

// Command example does what the Directus realtime quickstart does, in Go: connect, subscribe
// to new messages (fields user and text), print each one, and create three messages.
//
//	DIRECTUS_TOKEN=... go run ./realtime/example -url http://127.0.0.1:8055
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/directus-operator/directus-operator/realtime"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8055", "base URL of Directus")
	collection := flag.String("collection", "messages", "collection to subscribe to")
	flag.Parse()
	token := os.Getenv("DIRECTUS_TOKEN")
	if token == "" {
		log.Fatal("set DIRECTUS_TOKEN to a static token or an access token")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	c, err := realtime.New(realtime.Options{
		Server: realtime.Server{URL: *url, Auth: realtime.Auth{AccessToken: token}},
		OnEvent: func(e realtime.Event) {
			if e.Err != nil {
				log.Printf("%s: %v", e.Kind, e.Err)
			} else {
				log.Printf("%s (%s)", e.Kind, e.State)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = c.Close() }()

	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = c.Connect(cctx)
	cancel()
	if err != nil {
		log.Fatal(err)
	}

	sub, err := c.Subscribe(ctx, realtime.SubscribeOptions{
		Collection: *collection,
		Event:      "create",
		Query:      json.RawMessage(`{"fields":["user","text"]}`),
	})
	if err != nil {
		log.Fatal(err)
	}

	go func() {
		for i := 1; i <= 3; i++ {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := c.CreateItem(rctx, *collection, map[string]any{"user": "go-example", "text": fmt.Sprintf("Hello %d from Go", i)})
			cancel()
			if err != nil {
				log.Printf("createItem: %v", err)
			}
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return
		case <-c.Done():
			log.Fatal(c.Err())
		case m, ok := <-sub.C():
			if !ok {
				return
			}
			switch m.Kind {
			case realtime.KindCreate:
				for _, item := range m.Items {
					var msg struct{ User, Text string }
					_ = json.Unmarshal(item, &msg)
					fmt.Printf("%s: %s\n", msg.User, msg.Text)
				}
			case realtime.KindError:
				log.Printf("subscription error: %v", m.Err)
			default:
				log.Printf("%s (epoch %d)", m.Kind, m.Epoch)
			}
		}
	}
}
