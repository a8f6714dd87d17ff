//! The JSON of `manage.py dumpdata auth contenttypes token_blacklist` (with or without
//! `--natural-foreign`) as a [`Source`]. The file is read once, element by element, into
//! compact records (the JSON itself is never held whole); there is no sequence in it, so the
//! highest user id is the highest one present.

mod entries;

use std::collections::HashMap;
use std::path::Path;

use time::PrimitiveDateTime;

use self::entries::{Raw, Ref};
use super::ImportError;
use super::source::{
    DjangoGroup, DjangoPermission, DjangoToken, DjangoUser, IdEvidence, Layout, Source,
};

pub struct DumpdataSource {
    described: String,
    layout: Layout,
    users: Vec<DjangoUser>,
    user_groups: Vec<(i64, i64)>,
    user_permissions: Vec<(i64, i64)>,
    permissions: Vec<DjangoPermission>,
    groups: Vec<DjangoGroup>,
    group_permissions: Vec<(i64, i64)>,
    tokens: Vec<DjangoToken>,
}

impl DumpdataSource {
    pub fn read(path: &Path) -> Result<Self, ImportError> {
        Ok(Self::resolve(entries::read(path)?, path))
    }

    fn resolve(raw: Raw, path: &Path) -> Self {
        let content_types: HashMap<i64, (String, String)> = raw
            .content_types
            .iter()
            .map(|(id, app, model)| (*id, (app.clone(), model.clone())))
            .collect();
        let mut permissions = Vec::new();
        for (id, ct, codename, name) in &raw.permissions {
            let (app_label, model) = match ct {
                Ref::Id(ct) => content_types.get(ct).cloned().unwrap_or_default(),
                Ref::Key(key) => (
                    key.first().cloned().unwrap_or_default(),
                    key.get(1).cloned().unwrap_or_default(),
                ),
            };
            permissions.push(DjangoPermission {
                id: *id,
                app_label,
                model,
                codename: codename.clone(),
                name: name.clone(),
            });
        }
        // Natural keys of permissions: (codename, app_label, model).
        let by_key: HashMap<(String, String, String), i64> = permissions
            .iter()
            .map(|p| {
                (
                    (p.codename.clone(), p.app_label.clone(), p.model.clone()),
                    p.id,
                )
            })
            .collect();
        let permission_id = |r: &Ref| match r {
            Ref::Id(id) => Some(*id),
            Ref::Key(k) if k.len() == 3 => by_key
                .get(&(k[0].clone(), k[1].clone(), k[2].clone()))
                .copied(),
            Ref::Key(_) => None,
        };
        let group_ids: HashMap<String, i64> = raw
            .groups
            .iter()
            .map(|(g, _)| (g.name.clone(), g.id))
            .collect();
        let mut group_permissions = Vec::new();
        let mut groups = Vec::new();
        for (group, refs) in raw.groups {
            for r in &refs {
                if let Some(p) = permission_id(r) {
                    group_permissions.push((group.id, p));
                }
            }
            groups.push(group);
        }
        let user_ids: HashMap<String, i64> = raw
            .users
            .iter()
            .map(|(u, _, _)| (u.username.clone(), u.id))
            .collect();
        let mut users = Vec::new();
        let mut user_groups = Vec::new();
        let mut user_permissions = Vec::new();
        for (user, group_refs, permission_refs) in raw.users {
            for r in &group_refs {
                let id = match r {
                    Ref::Id(id) => Some(*id),
                    Ref::Key(k) => k.first().and_then(|n| group_ids.get(n).copied()),
                };
                user_groups.extend(id.map(|g| (user.id, g)));
            }
            for r in &permission_refs {
                user_permissions.extend(permission_id(r).map(|p| (user.id, p)));
            }
            users.push(user);
        }
        users.sort_by_key(|u| u.id);
        user_groups.sort_unstable();
        user_permissions.sort_unstable();
        let user_ref = |r: &Ref| match r {
            Ref::Id(id) => Some(*id),
            Ref::Key(k) => k.first().and_then(|n| user_ids.get(n).copied()),
        };
        let mut blacklisted: HashMap<i64, PrimitiveDateTime> = HashMap::new();
        let jti_ids: HashMap<String, i64> = raw
            .outstanding
            .iter()
            .map(|t| (t.jti.clone(), t.id))
            .collect();
        for (r, at) in raw.blacklisted {
            let id = match r {
                Ref::Id(id) => Some(id),
                Ref::Key(k) => k.first().and_then(|j| jti_ids.get(j).copied()),
            };
            if let Some(id) = id {
                blacklisted.insert(id, at);
            }
        }
        let mut tokens: Vec<DjangoToken> = raw
            .outstanding
            .into_iter()
            .map(|t| DjangoToken {
                id: t.id,
                user_id: t.user.as_ref().and_then(user_ref),
                jti: t.jti,
                token: t.token,
                created_at: t.created_at,
                expires_at: t.expires_at,
                blacklisted_at: blacklisted.get(&t.id).copied(),
            })
            .collect();
        tokens.sort_by_key(|t| t.id);
        let user_model = raw.user_model.unwrap_or_else(|| "auth.user".into());
        let wanted = [
            user_model.as_str(),
            "auth.group",
            "auth.permission",
            "contenttypes.contenttype",
            "token_blacklist.outstandingtoken",
            "token_blacklist.blacklistedtoken",
        ];
        let layout = Layout {
            user_table: user_model.replace('.', "_"),
            extra_user_columns: raw.extra_user_fields,
            missing_user_columns: Vec::new(),
            missing_tables: wanted
                .iter()
                .filter(|m| !raw.models.iter().any(|seen| seen == *m))
                .map(|m| format!("{m} (no entries in the dump)"))
                .collect(),
        };
        Self {
            described: format!("dumpdata {}", path.display()),
            layout,
            users,
            user_groups,
            user_permissions,
            permissions,
            groups,
            group_permissions,
            tokens,
        }
    }
}

/// Up to `limit` items after `after` in a list sorted by id.
fn page<T: Clone>(items: &[T], id: impl Fn(&T) -> i64, after: i64, limit: i64) -> Vec<T> {
    let start = items.partition_point(|x| id(x) <= after);
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(0))
        .min(items.len());
    items[start..end].to_vec()
}

fn links_in(links: &[(i64, i64)], after: i64, upto: i64) -> Vec<(i64, i64)> {
    let start = links.partition_point(|l| l.0 <= after);
    let end = links.partition_point(|l| l.0 <= upto);
    links[start..end.max(start)].to_vec()
}

impl Source for DumpdataSource {
    fn describe(&self) -> String {
        self.described.clone()
    }

    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn users_after(&mut self, after: i64, limit: i64) -> Result<Vec<DjangoUser>, ImportError> {
        Ok(page(&self.users, |u| u.id, after, limit))
    }

    fn user_groups(&mut self, after: i64, upto: i64) -> Result<Vec<(i64, i64)>, ImportError> {
        Ok(links_in(&self.user_groups, after, upto))
    }

    fn user_permissions(&mut self, after: i64, upto: i64) -> Result<Vec<(i64, i64)>, ImportError> {
        Ok(links_in(&self.user_permissions, after, upto))
    }

    fn permissions(&mut self) -> Result<Vec<DjangoPermission>, ImportError> {
        Ok(self.permissions.clone())
    }

    fn groups(&mut self) -> Result<Vec<DjangoGroup>, ImportError> {
        Ok(self.groups.clone())
    }

    fn group_permissions(&mut self) -> Result<Vec<(i64, i64)>, ImportError> {
        Ok(self.group_permissions.clone())
    }

    fn tokens_after(&mut self, after: i64, limit: i64) -> Result<Vec<DjangoToken>, ImportError> {
        Ok(page(&self.tokens, |t| t.id, after, limit))
    }

    fn highest_user_id(&mut self) -> Result<(i64, IdEvidence), ImportError> {
        Ok((
            self.users.last().map_or(0, |u| u.id),
            IdEvidence::HighestRow,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_with_natural_foreign_keys_is_resolved() {
        let dump = r#"[
          {"model": "contenttypes.contenttype", "pk": 4, "fields": {"app_label": "shop", "model": "order"}},
          {"model": "auth.permission", "pk": 7, "fields": {"name": "Can refund", "content_type": ["shop", "order"], "codename": "refund_order"}},
          {"model": "auth.group", "pk": 3, "fields": {"name": "editors", "permissions": [["refund_order", "shop", "order"]]}},
          {"model": "auth.user", "pk": 12, "fields": {"password": "!x", "last_login": null, "is_superuser": false,
            "username": "ann", "first_name": "", "last_name": "", "email": "a@example.com", "is_staff": false,
            "is_active": true, "date_joined": "2024-05-01T10:00:00.123Z", "groups": [["editors"]], "user_permissions": [7]}},
          {"model": "token_blacklist.outstandingtoken", "pk": 5, "fields": {"user": ["ann"], "jti": "j1", "token": "t.t.t",
            "created_at": "2024-05-01T10:00:00Z", "expires_at": "2024-05-02T10:00:00Z"}},
          {"model": "token_blacklist.blacklistedtoken", "pk": 1, "fields": {"token": 5, "blacklisted_at": "2024-05-01T11:00:00Z"}}
        ]"#;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("dump.json");
        std::fs::write(&path, dump).unwrap_or_else(|e| panic!("{e}"));
        let mut source = DumpdataSource::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let users = source.users_after(0, 10).unwrap_or_default();
        assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), vec![12]);
        assert_eq!(source.user_groups(0, 12).unwrap_or_default(), vec![(12, 3)]);
        assert_eq!(
            source.user_permissions(0, 12).unwrap_or_default(),
            vec![(12, 7)]
        );
        assert_eq!(source.group_permissions().unwrap_or_default(), vec![(3, 7)]);
        let permissions = source.permissions().unwrap_or_default();
        assert_eq!(permissions[0].app_label, "shop");
        let tokens = source.tokens_after(0, 10).unwrap_or_default();
        assert_eq!(tokens[0].user_id, Some(12));
        assert!(tokens[0].blacklisted_at.is_some());
        assert_eq!(source.layout().user_table, "auth_user");
        assert!(
            source.layout().missing_tables.is_empty(),
            "{:?}",
            source.layout().missing_tables
        );
    }

    #[test]
    fn pages_follow_ids() {
        let items = [1_i64, 2, 5, 9];
        assert_eq!(page(&items, |x| *x, 0, 2), vec![1, 2]);
        assert_eq!(page(&items, |x| *x, 2, 10), vec![5, 9]);
        assert!(page(&items, |x| *x, 9, 10).is_empty());
        let links = [(1, 1), (2, 1), (2, 2), (5, 1)];
        assert_eq!(links_in(&links, 1, 2), vec![(2, 1), (2, 2)]);
    }
}
