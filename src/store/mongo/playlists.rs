//! MongoDB persistence of playlists, their videos kept in order inside the playlist document.

use async_trait::async_trait;
use bson::{Document, doc};

use super::docs::PlaylistDoc;
use super::queries::by_id;
use super::queries::playlists as q;
use super::{MongoStore, backend, coll, now, oid};
use crate::domain::Id;
use crate::domain::social::PlaylistRecord;
use crate::store::records::RecordKind;
use crate::store::{PlaylistRepo, StoreResult};

impl MongoStore {
    async fn playlists(&self, filter: Document) -> StoreResult<Vec<PlaylistRecord>> {
        let found: Vec<PlaylistDoc> = self.aggregate_as(coll::PLAYLISTS, q::playlists(filter)).await?;
        Ok(found.into_iter().map(PlaylistDoc::into_record).collect())
    }
}

#[async_trait]
impl PlaylistRepo for MongoStore {
    async fn insert(&self, owner: Id, name: &str, description: &str) -> StoreResult<Id> {
        self.insert_record(coll::PLAYLISTS, q::new_playlist(oid(owner), name, description)).await
    }

    async fn get(&self, id: Id) -> StoreResult<Option<PlaylistRecord>> {
        Ok(self.playlists(by_id(oid(id))).await?.into_iter().next())
    }

    async fn by_owner(&self, owner: Id) -> StoreResult<Vec<PlaylistRecord>> {
        self.playlists(doc! { "owner": oid(owner) }).await
    }

    async fn update(&self, id: Id, name: Option<&str>, description: Option<&str>) -> StoreResult<bool> {
        self.update_record(coll::PLAYLISTS, id, q::playlist_update(name, description, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        self.delete_one_with(RecordKind::Playlists, oid(id)).await
    }

    async fn add_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let (filter, update) = q::add_to_playlist(oid(id), oid(video), now());
        self.collection(coll::PLAYLISTS).update_one(filter, update).await.map_err(backend)?;
        Ok(())
    }

    async fn remove_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let (filter, update) = q::remove_from_playlist(oid(id), oid(video), now());
        self.collection(coll::PLAYLISTS).update_one(filter, update).await.map_err(backend)?;
        Ok(())
    }
}
