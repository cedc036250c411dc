import { describe, expect, it } from 'vitest'
import type { Conversation, Role } from '../src/api/types'
import { manages, mayDeleteForEveryone, mayRemove, maySetPassword, rolesIMayGive, standing, topRole } from '../src/lib/policy'
import { conv, member } from './helpers'

const ROLES: Role[] = ['owner', 'admin', 'member']
const who = (role: Role | null, spaceAdmin = false) => ({ role, spaceAdmin })

// The same table as the server's (`hubbub-domain/src/policy.rs`): y allowed, n refused.
describe('the web app asks the same policy as the server', () => {
  it('managers: owners and admins of groups and rooms, space admins in their channels, nobody in a direct chat', () => {
    expect(ROLES.map((r) => manages('channel', who(r)))).toEqual([true, true, false])
    expect(ROLES.map((r) => manages('group', who(r)))).toEqual([true, true, false])
    expect(ROLES.map((r) => manages('direct', who(r)))).toEqual([false, false, false])
    expect(manages('channel', who('member', true))).toBe(true)
    expect(manages('channel', who(null))).toBe(false)
  })

  it('delete for everyone: the top role of the kind, or a space admin', () => {
    expect([topRole('channel'), topRole('group'), topRole('direct')]).toEqual(['owner', 'admin', 'member'])
    expect(ROLES.map((r) => mayDeleteForEveryone('channel', who(r)))).toEqual([true, false, false])
    expect(ROLES.map((r) => mayDeleteForEveryone('group', who(r)))).toEqual([false, true, false])
    expect(mayDeleteForEveryone('direct', who('member'))).toBe(false)
    expect(mayDeleteForEveryone('channel', who('member', true))).toBe(true)
  })

  it('roles: the owner gives any role, admins move people between member and admin; groups have no owner', () => {
    expect(rolesIMayGive('channel', who('owner'), 'admin')).toEqual(['owner', 'admin', 'member'])
    expect(rolesIMayGive('channel', who('admin'), 'member')).toEqual(['admin', 'member'])
    expect(rolesIMayGive('channel', who('admin'), 'owner')).toEqual([])
    expect(rolesIMayGive('channel', who('member'), 'member')).toEqual([])
    expect(rolesIMayGive('group', who('admin'), 'member')).toEqual(['admin', 'member'])
    expect(rolesIMayGive('direct', who('owner'), 'member')).toEqual([])
  })

  it('removal: managers, but an admin never removes the owner', () => {
    expect(mayRemove('channel', who('admin'), 'owner')).toBe(false)
    expect(mayRemove('channel', who('admin'), 'admin')).toBe(true)
    expect(mayRemove('channel', who('owner'), 'admin')).toBe(true)
    expect(mayRemove('channel', who('member'), 'member')).toBe(false)
  })

  it('a password: only the owner of a public room outside a space; someone who left stands nowhere', () => {
    const room = (extra: Partial<Conversation>) => conv('r', [member('me')], 0, { kind: 'channel', visibility: 'public', space_id: null, ...extra })
    expect(maySetPassword(room({}), who('owner'))).toBe(true)
    expect(maySetPassword(room({}), who('admin'))).toBe(false)
    expect(maySetPassword(room({ visibility: 'private' }), who('owner'))).toBe(false)
    expect(maySetPassword(room({ space_id: 's' }), who('owner'))).toBe(false)
    expect(standing({ ...room({ my_role: 'owner' }), left: true }, true)).toEqual({ role: null, spaceAdmin: false })
  })
})
