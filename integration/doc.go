// Package integration runs the built binaries as black boxes with real clients.
// It imports no project package.
package integration
