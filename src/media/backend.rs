//! The object store behind media: a folder on this machine, or an S3
//! bucket (AWS or S3-compatible), as `[media]` says.

use std::sync::Arc;

use anyhow::Context;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;

use crate::config::{Config, MediaBackend, MediaConfig};

pub(super) fn open(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let m = &config.media;
    Ok(match m.store {
        MediaBackend::Local => {
            let dir = m
                .local_dir
                .clone()
                .unwrap_or_else(|| config.data_dir.join("media"));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the media folder {}", dir.display()))?;
            let fs = LocalFileSystem::new_with_prefix(&dir)
                .with_context(|| format!("opening the media folder {}", dir.display()))?;
            // Empty workspace folders go with their last file.
            Arc::new(fs.with_automatic_cleanup(true))
        }
        MediaBackend::S3 => Arc::new(s3(m)?),
    })
}

fn s3(m: &MediaConfig) -> anyhow::Result<object_store::aws::AmazonS3> {
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    let Some(bucket) = m.s3_bucket.as_deref().filter(|b| !b.trim().is_empty()) else {
        anyhow::bail!(
            "media.store = \"s3\" needs media.s3_bucket (BLAZZ_MEDIA__S3_BUCKET); \
             see docs/media.md"
        );
    };
    let secret = m
        .s3_secret_access_key
        .as_ref()
        .map(|s| s.expose())
        .filter(|s| !s.trim().is_empty());
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(m.s3_region.as_deref().unwrap_or("us-east-1"))
        .with_allow_http(m.s3_allow_http)
        .with_virtual_hosted_style_request(!m.s3_path_style);
    match (present(&m.s3_access_key_id), secret) {
        (true, Some(secret)) => {
            b = b
                .with_access_key_id(m.s3_access_key_id.as_deref().unwrap_or_default())
                .with_secret_access_key(secret);
        }
        (false, None) => {} // the ambient credentials (instance profile, ...)
        _ => anyhow::bail!(
            "media.s3_access_key_id and media.s3_secret_access_key go together: set both \
             (BLAZZ_MEDIA__S3_ACCESS_KEY_ID, BLAZZ_MEDIA__S3_SECRET_ACCESS_KEY) or neither"
        ),
    }
    if let Some(endpoint) = m.s3_endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
        if endpoint.starts_with("http://") && !m.s3_allow_http {
            anyhow::bail!(
                "media.s3_endpoint {endpoint} is plain HTTP: set media.s3_allow_http = true \
                 (BLAZZ_MEDIA__S3_ALLOW_HTTP=true) to use it"
            );
        }
        b = b.with_endpoint(endpoint);
    }
    b.build()
        .with_context(|| format!("configuring the S3 media store (bucket {bucket})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::media::MediaStore;

    fn s3_config(f: impl FnOnce(&mut MediaConfig)) -> Config {
        let mut c = Config::default();
        c.media.store = MediaBackend::S3;
        f(&mut c.media);
        c
    }

    fn refusal(c: &Config) -> String {
        match MediaStore::from_config(c) {
            Ok(_) => panic!("incomplete S3 settings were accepted"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn s3_without_a_bucket_is_refused_with_the_setting_to_fix() {
        let e = refusal(&s3_config(|_| {}));
        assert!(e.contains("BLAZZ_MEDIA__S3_BUCKET"), "{e}");
    }

    #[test]
    fn an_access_key_without_its_secret_is_refused() {
        let e = refusal(&s3_config(|m| {
            m.s3_bucket = Some("b".into());
            m.s3_access_key_id = Some("AKIA".into());
        }));
        assert!(e.contains("go together"), "{e}");
    }

    #[test]
    fn a_plain_http_endpoint_needs_allow_http() {
        let minio = |allow: bool| {
            s3_config(|m| {
                m.s3_bucket = Some("blazz".into());
                m.s3_endpoint = Some("http://127.0.0.1:9000".into());
                m.s3_access_key_id = Some("minio".into());
                m.s3_secret_access_key = Some(Secret::new("minio123"));
                m.s3_allow_http = allow;
            })
        };
        assert!(refusal(&minio(false)).contains("s3_allow_http"));
        let store = MediaStore::from_config(&minio(true)).unwrap();
        assert!(format!("{store:?}").contains("blazz"), "{store:?}");
    }
}
