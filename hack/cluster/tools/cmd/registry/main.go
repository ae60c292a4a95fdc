// Command registry is the cluster's image registry for `skaffold dev`: go-containerregistry's
// registry on a chosen address, blobs on disk and manifests in memory. Skaffold pushes to it from
// the host; containerd, inside the cluster's network namespace, pulls from it.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:5000", "host:port to listen on")
	blobDir := flag.String("blob-dir", "", "directory for blobs (default: in memory)")
	flag.Parse()

	options := []registry.Option{registry.Logger(log.New(os.Stderr, "registry: ", log.LstdFlags))}
	if *blobDir != "" {
		if err := os.MkdirAll(*blobDir, 0o700); err != nil {
			log.Fatal(err)
		}
		options = append(options, registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobDir)))
	}
	server := &http.Server{
		Addr:              *address,
		Handler:           registry.New(options...),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("serving on %s", *address)
	log.Fatal(server.ListenAndServe())
}
