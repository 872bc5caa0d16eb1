/** The gateway's version, reported by GET /version. Kept in step with package.json by a test. */
export const VERSION = '0.1.0'
