package broker

import (
	"math/bits"
	"sync"
)

// Request frames above smallFrame bytes (produce requests carrying
// megabyte batches) are read into buffers shared by all connections, one
// pool per power-of-two size, instead of a fresh allocation per request
// (which the runtime zeroes, then the GC reclaims) or a buffer pinned by
// each connection. sync.Pool drops what stays unused over two collections,
// so an idle broker gives the memory back.
const (
	smallFrame   = 1 << 20
	maxPoolShift = 27 // 128 MiB; larger frames are allocated each time
)

var framePools [maxPoolShift + 1]sync.Pool

// getFrame returns a buffer of length n: from the pool of its size class
// when n is above smallFrame, else buf grown if needed.
func getFrame(buf []byte, n int) []byte {
	if n <= smallFrame {
		if cap(buf) < n {
			return make([]byte, n, smallFrame)
		}
		return buf[:n]
	}
	shift := bits.Len(uint(n - 1))
	if shift > maxPoolShift {
		return make([]byte, n)
	}
	if p, ok := framePools[shift].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<shift)
}

// putFrame returns a large buffer to its pool; small ones are kept by the
// connection.
func putFrame(b []byte) {
	c := cap(b)
	if c <= smallFrame || c&(c-1) != 0 {
		return
	}
	shift := bits.Len(uint(c - 1))
	if shift > maxPoolShift {
		return
	}
	b = b[:0]
	framePools[shift].Put(&b)
}
