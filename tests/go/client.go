// client.go -- test HTTPS client: N requests (or a timed load) with a chosen concurrency, protocol, body and stack-growth stress.
//
// Stdlib only, buildable by every Go from 1.15 on (see server.go).
//
// Requests go to -url, with "?i=K" (or "&i=K") appended so that each one
// is told apart, and "size=" when -size is set; with -body N they are
// POSTs of N bytes.  -http1 takes HTTP/1.1 only; otherwise HTTP/2 is
// offered through ALPN, and GODEBUG=http2client=0 turns it off as usual.
// -log writes one line per request:
//
//	METHOD TARGET STATUS RESP_BODY_BYTES PROTO
//
// -stress makes each request from the bottom of a recursion of random
// depth (up to -depth frames), or right after one (so the stack is big
// and nearly empty while tls.Conn.Read waits), and runs the garbage
// collector every millisecond: stacks move under tls.Conn.Read/Write.
//
// -duration D runs a timed load instead of -n (for bench/): each of -c
// workers sends requests back to back; "requests N" is printed at the end.
// SIGTERM or SIGINT ends either early: no new request is started, those
// in flight finish, and the exit status says whether all succeeded.
//
// Exit status 0 only if every request got a response with its full body.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	mrand "math/rand"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	url      = flag.String("url", "", "https://HOST:PORT/PATH to request")
	n        = flag.Int("n", 1, "requests in all")
	conc     = flag.Int("c", 1, "concurrent workers (each with its own connections)")
	body     = flag.Int("body", 0, "POST a body of this many bytes (0: GET)")
	size     = flag.Int("size", -1, "ask for a response body of this many bytes")
	http1    = flag.Bool("http1", false, "HTTP/1.1 only")
	shared   = flag.Bool("shared", false, "one Transport for all workers (default: one each)")
	noKeep   = flag.Bool("close", false, "a new connection per request")
	caPath   = flag.String("ca", "", "trust this certificate (PEM); default: no verification")
	logPath  = flag.String("log", "", "log every request here")
	stress   = flag.Bool("stress", false, "deep recursion around requests and a GC every millisecond")
	depth    = flag.Int("depth", 2000, "-stress: the deepest recursion, in frames")
	duration = flag.Duration("duration", 0, "run a timed load instead of -n requests")
	pause    = flag.Duration("pause", 0, "sleep this long between a worker's requests")
)

type result struct {
	mu    sync.Mutex
	f     *os.File
	ok    int64
	fails int64
}

func (r *result) add(line string) {
	if r.f == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.f.WriteString(line)
}

func newTransport(roots *x509.CertPool) *http.Transport {
	cfg := &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil}
	tr := &http.Transport{
		TLSClientConfig:     cfg,
		ForceAttemptHTTP2:   !*http1,
		DisableKeepAlives:   *noKeep,
		MaxIdleConnsPerHost: 4,
	}
	if *http1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tr
}

// recurse calls itself n times with a frame of some 512 bytes, then runs f.
//
//go:noinline
func recurse(n int, f func()) int {
	var pad [64]int64
	pad[n%64] = int64(n)
	if n <= 0 {
		f()
		return int(pad[0])
	}
	return recurse(n-1, f) + int(pad[n%64]&1)
}

func target(i int64) string {
	sep := "?"
	if strings.Contains(*url, "?") {
		sep = "&"
	}
	t := fmt.Sprintf("%s%si=%d", *url, sep, i)
	if *size >= 0 {
		t += fmt.Sprintf("&size=%d", *size)
	}
	return t
}

func do(c *http.Client, res *result, i int64) {
	var rd io.Reader
	method := "GET"
	if *body > 0 {
		method = "POST"
		rd = bytes.NewReader(bytes.Repeat([]byte("x"), *body))
	}
	req, err := http.NewRequest(method, target(i), rd)
	if err != nil {
		log.Fatalf("failed to make a request: %v", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		atomic.AddInt64(&res.fails, 1)
		fmt.Fprintf(os.Stderr, "request %d: %v\n", i, err)
		return
	}
	got, err := io.Copy(ioutil.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || (resp.ContentLength >= 0 && got != resp.ContentLength) {
		atomic.AddInt64(&res.fails, 1)
		fmt.Fprintf(os.Stderr, "request %d: body %d of %d bytes: %v\n", i, got, resp.ContentLength, err)
		return
	}
	atomic.AddInt64(&res.ok, 1)
	res.add(fmt.Sprintf("%s %s %d %d %s\n", method, req.URL.RequestURI(),
		resp.StatusCode, got, resp.Proto))
}

func main() {
	flag.Parse()
	if *url == "" || *conc < 1 {
		fmt.Fprintln(os.Stderr, "usage: client -url https://127.0.0.1:PORT/ [-n N] [-c C] ...")
		os.Exit(2)
	}
	var roots *x509.CertPool
	if *caPath != "" {
		pemCert, err := ioutil.ReadFile(*caPath)
		if err != nil {
			log.Fatalf("failed to read %s: %v", *caPath, err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemCert) {
			log.Fatalf("no certificate in %s", *caPath)
		}
	}
	res := &result{}
	if *logPath != "" {
		var err error
		if res.f, err = os.Create(*logPath); err != nil {
			log.Fatalf("failed to create %s: %v", *logPath, err)
		}
	}
	if *stress {
		go func() {
			for {
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var stop int32
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		atomic.StoreInt32(&stop, 1)
	}()
	sharedClient := &http.Client{Transport: newTransport(roots)}
	var next int64 = -1
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		c := sharedClient
		if !*shared {
			c = &http.Client{Transport: newTransport(roots)}
		}
		wg.Add(1)
		go func(c *http.Client) {
			defer wg.Done()
			for atomic.LoadInt32(&stop) == 0 {
				i := atomic.AddInt64(&next, 1)
				if *duration > 0 {
					if time.Now().After(deadline) {
						return
					}
				} else if i >= int64(*n) {
					return
				}
				switch {
				case !*stress:
					do(c, res, i)
				case i%2 == 0:
					recurse(mrand.Intn(*depth+1), func() { do(c, res, i) })
				default:
					recurse(mrand.Intn(*depth+1), func() {})
					do(c, res, i)
				}
				if *pause > 0 {
					time.Sleep(*pause)
				}
			}
		}(c)
	}
	wg.Wait()
	if res.f != nil {
		res.f.Close()
	}
	fmt.Printf("requests %d failed %d\n", res.ok, res.fails)
	if res.fails > 0 {
		os.Exit(1)
	}
}
