"""Exceptions mapped from the ZARRC_E* status codes; each carries zarrc's one-line message."""


class ZarrcError(Exception):
    """Base of every zarrc error: .code (negative ZARRC_E* value) and .message."""

    def __init__(self, message, code=0):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message


class OutOfMemoryError(ZarrcError, MemoryError): pass
class InvalidError(ZarrcError, ValueError): pass
class NotFoundError(ZarrcError, KeyError): pass
class ExistsError(ZarrcError, FileExistsError): pass
class StoreIOError(ZarrcError, OSError): pass
class CorruptError(ZarrcError, ValueError): pass
class UnsupportedError(ZarrcError, NotImplementedError): pass
class BoundsError(ZarrcError, IndexError, ValueError): pass
class DtypeError(ZarrcError, TypeError, ValueError): pass
class ConflictError(ZarrcError): pass
class ReadOnlyError(ZarrcError, PermissionError): pass
class AuthError(ZarrcError, PermissionError): pass
class InternalError(ZarrcError): pass


BY_CODE = {-1: OutOfMemoryError, -2: InvalidError, -3: NotFoundError, -4: ExistsError,
           -5: StoreIOError, -6: CorruptError, -7: UnsupportedError, -8: BoundsError,
           -9: DtypeError, -10: ConflictError, -11: ReadOnlyError, -12: AuthError,
           -13: InternalError}
