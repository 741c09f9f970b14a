package quorum

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

// Names of the epoch files in dataDir (Apache's QuorumPeer constants).
const (
	AcceptedEpochFile = "acceptedEpoch"
	CurrentEpochFile  = "currentEpoch"
)

// Sentinel errors.
var (
	// ErrEpochFile reports an unreadable or malformed epoch file.
	ErrEpochFile = errors.New("quorum: bad epoch file")
	// ErrPeer reports a peer connection that broke the protocol (bad Hello,
	// unknown server id, oversized or malformed frame).
	ErrPeer = errors.New("quorum: peer protocol error")
)

// ReadEpoch reads dataDir/name: a decimal number (Apache writes it with a
// trailing newline). A missing file is epoch 0 with found=false, as for a
// server that never joined an ensemble.
func ReadEpoch(fsys vfs.FS, dataDir, name string) (epoch int64, found bool, err error) {
	path := filepath.Join(dataDir, name)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("%w: open %s: %v", ErrEpochFile, path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return 0, false, fmt.Errorf("%w: read %s: %v", ErrEpochFile, path, err)
	}
	s := strings.TrimSpace(string(data))
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false, fmt.Errorf("%w: %s holds %q, not an epoch number; restore it from a backup or remove it (with the whole dataDir) to rejoin as an empty server",
			ErrEpochFile, path, s)
	}
	return v, true, nil
}

// WriteEpoch writes dataDir/name atomically (temp file, fsync, rename,
// directory fsync), so a crash leaves either the old or the new epoch.
func WriteEpoch(fsys vfs.FS, dataDir, name string, epoch int64) error {
	path := filepath.Join(dataDir, name)
	if err := checkpoint.WriteFile(fsys, path, []byte(strconv.FormatInt(epoch, 10)+"\n")); err != nil {
		return fmt.Errorf("quorum: write %s: %w (check that dataDir is writable and the disk not full)", path, err)
	}
	return nil
}
