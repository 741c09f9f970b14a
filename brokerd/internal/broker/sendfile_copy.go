package broker

import (
	"io"
	"os"
	"syscall"

	"mqstack/storage/segment"
)

func copySection(w io.Writer, s *segment.Section) error {
	// Read through a dup: the section owns s.Fd and closes it.
	fd, err := syscall.Dup(s.Fd)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), s.Path)
	defer f.Close()
	_, err = io.Copy(w, io.NewSectionReader(f, s.Position, s.Length))
	return err
}
