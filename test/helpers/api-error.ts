import { APIError } from 'openai'

/** The APIError a call fails with (tap's t.rejects types do not take plain objects). */
export async function apiError(p: Promise<unknown>): Promise<APIError> {
  try {
    await p
  } catch (err) {
    if (err instanceof APIError) return err
    throw err
  }
  throw new Error('expected the call to fail')
}
