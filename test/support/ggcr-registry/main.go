// A referrers-capable OCI registry for the image tests: go-containerregistry's registry
// package (the library cosign and crane are built on) with its referrers API turned on,
// which `crane registry serve` does not do. In memory; listens on 127.0.0.1 on a free port
// and prints "serving on port N" once it accepts connections.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	// Request lines on stderr: the tests keep the tail to explain a failure.
	handler := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "", log.LstdFlags)))
	fmt.Printf("serving on port %d\n", listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(server.Serve(listener))
}
