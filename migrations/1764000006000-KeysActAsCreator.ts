import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A key acts as the user who created it, and only as a user who has signed in. Keys made before that
 * rule may act as someone else (an owner or admin could name any member, even a pending one added by
 * email) or as nobody (the command line's --without-user): they are revoked here, each with an audit
 * row (`api_key.revoked`, actor `system`, the reason; never the secret or its hash).
 *
 * A key's creator is the actor of its `api_key.created` audit row, followed back through rotations
 * (a rotated key keeps the user of the key it replaced). A key created by an operator (actor `cli`),
 * or without a creation row, is kept when its user has signed in: naming the user is the operator's
 * job, as it still is on the command line. Keys already revoked are left as they are.
 */
export class KeysActAsCreator1764000006000 implements MigrationInterface {
  name = 'KeysActAsCreator1764000006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      WITH RECURSIVE chain AS (
        SELECT id, id AS root FROM api_keys WHERE rotated_from_id IS NULL
        UNION ALL
        SELECT k.id, c.root FROM api_keys k JOIN chain c ON k.rotated_from_id = c.id
      ),
      creators AS (
        SELECT DISTINCT ON (target_id) target_id AS key_id, actor_type, actor_id
          FROM audit_events
         WHERE action = 'api_key.created' AND target_type = 'api_key'
         ORDER BY target_id, created_at
      ),
      judged AS (
        SELECT k.id, k.tenant_id, k.prefix, k.user_id, cr.actor_type AS creator_type, cr.actor_id AS creator_id,
               CASE
                 WHEN k.user_id IS NULL THEN 'acts_as_no_user'
                 WHEN cr.actor_type = 'user' AND cr.actor_id IS DISTINCT FROM k.user_id::text THEN 'acts_as_another_user'
                 WHEN u.id IS NULL OR u.status <> 'active' OR u.clerk_user_id IS NULL THEN 'user_not_signed_in'
               END AS reason
          FROM api_keys k
          LEFT JOIN chain c ON c.id = k.id
          LEFT JOIN creators cr ON cr.key_id = COALESCE(c.root, k.id)::text
          LEFT JOIN users u ON u.id = k.user_id
         WHERE k.revoked_at IS NULL OR k.revoked_at > now()
      ),
      revoked AS (
        UPDATE api_keys k SET revoked_at = now(), updated_at = now()
          FROM judged j
         WHERE k.id = j.id AND j.reason IS NOT NULL
        RETURNING k.id, k.tenant_id, k.prefix, j.user_id, j.creator_type, j.creator_id, j.reason
      )
      INSERT INTO audit_events (action, actor_type, actor_id, tenant_id, target_type, target_id, metadata)
      SELECT 'api_key.revoked', 'system', NULL, tenant_id, 'api_key', id::text,
             jsonb_build_object('prefix', prefix, 'reason', reason, 'user_id', user_id,
                                'created_by', CASE WHEN creator_type IS NULL THEN NULL
                                                   ELSE jsonb_build_object('type', creator_type, 'id', creator_id) END,
                                'by', 'migration')
        FROM revoked`);
  }

  /** Nothing to undo safely: a key revoked because it acted as someone else must not come back. */
  async down(): Promise<void> {}
}
