package health

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/resolvx/resolvx/gtm"
)

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ip, open := splitHostPort(t, ln.Addr().String())

	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed := splitHostPort(t, closedLn.Addr().String())
	closedLn.Close()

	p := &Prober{}
	hc := gtm.HealthCheck{Type: "tcp", Port: open, Timeout: gtm.Duration(gtm.DefaultTimeout)}
	if o := p.TCP(context.Background(), Target{EndpointID: "db", Address: ip}, hc); !o.OK || o.Error != "" || o.EndpointID != "db" {
		t.Errorf("open port: %+v", o)
	}
	hc.Port = closed
	if o := p.TCP(context.Background(), Target{EndpointID: "db", Address: ip}, hc); o.OK || !strings.Contains(o.Error, "refused") {
		t.Errorf("closed port: %+v, want connection refused", o)
	}
	hc.Port = 0
	if o := p.TCP(context.Background(), Target{EndpointID: "db", Address: ip}, hc); o.OK || o.Error != "no port" {
		t.Errorf("no port: %+v", o)
	}
}

func TestCanceledProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := (&Prober{}).TCP(ctx, Target{EndpointID: "db", Address: "127.0.0.1"}, gtm.HealthCheck{Type: "tcp", Port: 9})
	if o.OK || o.Error == "" {
		t.Fatalf("canceled probe: %+v", o)
	}
}
