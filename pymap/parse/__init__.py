"""The parse layer: what the bytes of /proc's files say.

``proc_files`` reads stat, status, meminfo and the like; ``smaps`` the
memory map into Process and Mapping objects; ``procps`` selects a process
as procps's library does; ``c_rules`` holds pmap's C reading rules, which
only the byte-exact emulators (and procps's selection) use.
"""
