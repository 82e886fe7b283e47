// File-system and socket errors in words: users never see a bare errno code (ENOENT, EACCES, ...).
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  EEXIST: 'it already exists',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EADDRINUSE: 'the address is already in use (choose another --port or stop the other process)',
  EADDRNOTAVAIL: 'the address is not available on this machine',
  ECONNREFUSED: 'the connection was refused (is the service running?)',
  ERR_FS_FILE_TOO_LARGE: 'the file is too large to read at once',
};

/** A file-system or socket error in words a person understands (never a bare errno code). */
export function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code !== undefined && ERRNO_WORDS[code] !== undefined) return ERRNO_WORDS[code];
  const message = (e as Error)?.message ?? String(e);
  // Node's messages start with the code ("ENOENT: no such file ..., open 'x'"); keep the words.
  return message.replace(/^[A-Z_]+: /, '').replace(/, \w+ '[^']*'$/, '');
}
