// Personal desktop groups: the list (`#/personal`) with the create form, and
// a group's detail with its desktops (`#/personal/<uuid>`).
import { PageProps } from '../../app/pages';
import { Detail } from './Detail';
import { GroupList } from './List';

export default function Page({ rest }: PageProps) {
  return rest[0] ? <Detail uuid={rest[0]} /> : <GroupList />;
}
