#!/usr/bin/env python3
"""Unpack the xz payload of a bzImage into an uncompressed vmlinux ELF (faster boot under Xen)."""
import lzma, sys
data = open(sys.argv[1], 'rb').read()
magic = b'\xfd7zXZ\x00'
pos = data.find(magic)
while pos >= 0:
    try:
        d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        out = d.decompress(data[pos:])
        if out[:4] == b'\x7fELF':
            open(sys.argv[2], 'wb').write(out)
            sys.exit(0)
    except lzma.LZMAError:
        pass
    pos = data.find(magic, pos + 1)
sys.exit("no xz-compressed ELF found in " + sys.argv[1])
