//go:build linux

package vfs

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// MapFile implements Mapper for the OS filesystem.
func (osFS) MapFile(f File, length int64) (*Mapping, error) {
	of, ok := f.(osFile)
	if !ok {
		return nil, fmt.Errorf("strata/vfs: map: %T is not a file of the OS filesystem", f)
	}
	if length == 0 {
		size, err := of.Size()
		if err != nil {
			return nil, err
		}
		length = size
	}
	if length <= 0 {
		return &Mapping{}, nil
	}
	if uint64(length) > uint64(^uint(0)>>1) {
		return nil, fmt.Errorf("strata/vfs: map %s: %d bytes do not fit the address space", of.Name(), length)
	}
	data, err := syscall.Mmap(int(of.Fd()), 0, int(length), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: of.Name(), Err: err}
	}
	m := &Mapping{data: data}
	runtime.AddCleanup(m, func(data []byte) { _ = syscall.Munmap(data) }, data)
	return m, nil
}

// preserve replaces the pages of data that hold [from, to) with private anonymous
// pages holding the same bytes: they are copied into a new anonymous mapping, which
// mremap then moves over the old pages in one step, so that a concurrent reader sees
// the same bytes before and after.
func preserve(data []byte, from, to int64) error {
	page := int64(os.Getpagesize())
	start := from / page * page
	// Whole pages: the mapping itself is whole pages, len(data) rounded up.
	end := min((to+page-1)/page*page, (int64(len(data))+page-1)/page*page)
	n := int(end - start)
	if n <= 0 {
		return nil
	}
	anon, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return fmt.Errorf("strata/vfs: preserve mapped bytes: %w", err)
	}
	// The last page may run past len(data) (never past the mapping, which is whole
	// pages): copy it through a slice of the mapping's full pages.
	src := unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), int(end))
	copy(anon, src[start:end])
	if err := syscall.Mprotect(anon, syscall.PROT_READ); err != nil {
		_ = syscall.Munmap(anon)
		return fmt.Errorf("strata/vfs: preserve mapped bytes: %w", err)
	}
	const mremapMaymove, mremapFixed = 1, 2
	_, _, errno := syscall.Syscall6(syscall.SYS_MREMAP,
		uintptr(unsafe.Pointer(&anon[0])), uintptr(n), uintptr(n),
		mremapMaymove|mremapFixed, uintptr(unsafe.Pointer(&src[start])), 0)
	if errno != 0 {
		_ = syscall.Munmap(anon)
		return fmt.Errorf("strata/vfs: preserve mapped bytes: mremap: %w", errno)
	}
	// anon's pages now live inside data's mapping; syscall's record of anon is stale
	// but harmless (it is never unmapped through it).
	return nil
}
