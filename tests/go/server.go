// server.go -- test HTTPS server: logs every request it served (the ground truth) and can grow goroutine stacks under load.
//
// Stdlib only, and kept buildable by every Go from 1.15 on, so that the
// tests can also build it with an old toolchain (stack ABI) when one is
// at hand.  The certificate is made at start (ECDSA P-256, self-signed)
// and written to -cert for clients that verify it.
//
// Every request is answered with ?size=N bytes (default 6) and status
// ?status=S (default 200), after reading the whole request body.  One
// log line per request, written once the response is complete:
//
//	METHOD TARGET STATUS REQ_BODY_BYTES RESP_BODY_BYTES PROTO
//
// -stress recurses to a random depth (up to -depth frames) before
// answering and writes the body from down there, and runs the garbage
// collector every millisecond: stacks grow while tls.Conn.Write is on
// them and shrink while tls.Conn.Read is parked, which is what makes a
// uretprobe's rewritten return address fatal to a Go program.
//
// SIGTERM or SIGINT: stop accepting, finish, close the log, exit 0.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	mrand "math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	addr     = flag.String("addr", "127.0.0.1:0", "listen address")
	logPath  = flag.String("log", "", "request log (the ground truth)")
	certPath = flag.String("cert", "", "write the server certificate (PEM) here")
	readyTo  = flag.String("ready", "", "write the listening address here once listening")
	http1    = flag.Bool("http1", false, "do not offer HTTP/2 (GODEBUG=http2server=0 does too)")
	stress   = flag.Bool("stress", false, "deep recursion in handlers and a GC every millisecond")
	depth    = flag.Int("depth", 2000, "-stress: the deepest recursion, in frames")
)

type reqLog struct {
	mu sync.Mutex
	f  *os.File
}

func (l *reqLog) add(line string) {
	if l.f == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.WriteString(line); err != nil {
		log.Fatalf("failed to write the request log: %v", err)
	}
}

// countingWriter counts the body bytes a handler wrote and the status it set.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

var pattern = []byte("abcdefghijklmnopqrstuvwxyz0123456789\n")

func writeBody(w io.Writer, size int) {
	for size > 0 {
		chunk := pattern
		if size < len(chunk) {
			chunk = chunk[:size]
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
		size -= len(chunk)
	}
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

func answer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 6
	status := http.StatusOK
	if v, err := strconv.Atoi(q.Get("size")); err == nil && v >= 0 {
		size = v
	}
	if v, err := strconv.Atoi(q.Get("status")); err == nil && v >= 200 && v <= 599 {
		status = v
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(status)
	if size == 6 && q.Get("size") == "" {
		io.WriteString(w, "hello\n")
		return
	}
	writeBody(w, size)
}

func makeCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemCert, nil
}

func main() {
	flag.Parse()
	cert, pemCert, err := makeCert()
	if err != nil {
		log.Fatalf("failed to make a certificate: %v", err)
	}
	if *certPath != "" {
		if err := ioutil.WriteFile(*certPath, pemCert, 0644); err != nil {
			log.Fatalf("failed to write %s: %v", *certPath, err)
		}
	}
	rl := &reqLog{}
	if *logPath != "" {
		if rl.f, err = os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644); err != nil {
			log.Fatalf("failed to open %s: %v", *logPath, err)
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		nreq, _ := io.Copy(ioutil.Discard, r.Body)
		if *stress {
			recurse(mrand.Intn(*depth+1), func() { answer(cw, r) })
		} else {
			answer(cw, r)
		}
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		rl.add(fmt.Sprintf("%s %s %d %d %d %s\n", r.Method, r.RequestURI,
			cw.status, nreq, cw.n, r.Proto))
	})
	srv := &http.Server{
		Handler:   handler,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog:  log.New(ioutil.Discard, "", 0),
	}
	if *http1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("failed to listen on %s: %v", *addr, err)
	}
	if *stress {
		go func() {
			for {
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	done := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		close(done)
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	if *readyTo != "" {
		if err := ioutil.WriteFile(*readyTo, []byte(ln.Addr().String()+"\n"), 0644); err != nil {
			log.Fatalf("failed to write %s: %v", *readyTo, err)
		}
	}
	if err := srv.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
		log.Fatalf("failed to serve: %v", err)
	}
	<-done
	if rl.f != nil {
		rl.f.Close()
	}
}
