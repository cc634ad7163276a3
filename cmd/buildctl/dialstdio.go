package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
)

// newDialStdioCommand builds the hidden command that the connection helpers
// (docker-container://, kube-pod://, ssh:// ...) run on the daemon's side:
// it copies stdin to the daemon's socket and the socket to stdout.
func newDialStdioCommand(globals *globalOptions) *cli.Command {
	return &cli.Command{
		Name:   "dial-stdio",
		Usage:  "Proxy the stdio stream to the daemon connection. Should not be invoked manually.",
		Hidden: true,
		Action: func(ctx context.Context, _ *cli.Command) error {
			conn, err := connect.DialRaw(ctx, globals.conn)
			if err != nil {
				return err
			}
			defer conn.Close()
			return proxyStdio(conn, os.Stdin, os.Stdout)
		},
	}
}

// halfCloser is a connection whose directions close separately, as
// *net.UnixConn and *net.TCPConn do.
type halfCloser interface {
	net.Conn
	CloseRead() error
	CloseWrite() error
}

// proxyStdio copies in to conn and conn to out until the daemon closes its
// side. It does not wait for in to end once the daemon is done, because a
// terminal never closes stdin.
func proxyStdio(conn net.Conn, in io.ReadCloser, out io.WriteCloser) error {
	hc, ok := conn.(halfCloser)
	if !ok {
		return fmt.Errorf("the connection of type %T cannot close one direction at a time", conn)
	}

	toConn := make(chan error, 1)
	toOut := make(chan error, 1)
	go func() {
		_, err := io.Copy(hc, in)
		closeLogged("stdin", in.Close)
		closeLogged("writing to the daemon", hc.CloseWrite)
		toConn <- wrapCopy("stdin to the daemon", err)
	}()
	go func() {
		_, err := io.Copy(out, hc)
		closeLogged("reading from the daemon", hc.CloseRead)
		closeLogged("stdout", out.Close)
		toOut <- wrapCopy("the daemon to stdout", err)
	}()

	select {
	case err := <-toConn:
		if err != nil {
			return err
		}
		return <-toOut
	case err := <-toOut:
		return err
	}
}

func wrapCopy(direction string, err error) error {
	if err != nil {
		return fmt.Errorf("copy %s: %w", direction, err)
	}
	return nil
}

// closeLogged closes one end after copying and logs a failure, because the
// copy's own error, if any, is the one worth returning.
func closeLogged(what string, closeFn func() error) {
	if err := closeFn(); err != nil {
		logrus.WithError(err).WithField("stream", what).Debug("close after copying failed")
	}
}
