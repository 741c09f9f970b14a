// Package proto holds the wire formats of the stack; its subpackages do no I/O.
package proto
